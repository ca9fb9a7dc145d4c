package events

import (
	"encoding/json"
	"strconv"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/view"
)

// Event types. Clients receive every type except AccessChanged.
const (
	TypeConversationCreated = "conversation.created"
	TypeConversationUpdated = "conversation.updated"
	// TypeConversationRemoved tells an inbox's members that a conversation left it (moved to
	// another inbox); its data is only {"id", "inbox_id", "reason"}, so nothing of the
	// conversation leaks to people who cannot see where it went.
	TypeConversationRemoved = "conversation.removed"
	// TypeConversationRead goes only to the user who read the conversation (read state is per user).
	TypeConversationRead = "conversation.read"
	TypeMessageCreated   = "message.created"
	TypeMessageUpdated   = "message.updated"
	TypeCommentCreated   = "comment.created"
	// TypeAccessChanged is internal: who may see which inbox changed (inbox access, teams, roles,
	// deactivation). Hubs recompute the affected users' visibility before delivering any later
	// event, and close a deactivated user's sockets.
	TypeAccessChanged = "access.changed"
)

func ptr(v int64) *int64 { return &v }

func marshal(v any) (json.RawMessage, error) { return json.Marshal(v) }

// ConversationCreated records a new conversation. Pass the struct that was inserted; it is
// rendered when the transaction commits, so later changes to it in the same transaction are
// included (and a later ConversationUpdated merges into this event).
func ConversationCreated(tx *store.Tx, c *store.Conversation) {
	tx.Emit(TypeConversationCreated, conversationKey(c.ID), conversationBuild(c))
}

// ConversationUpdated records a change to a conversation: status, assignment, team, priority,
// tags, snooze, spam, trash, inbox, preview and activity times. Call it right after writing the
// conversation, with the struct that was written.
func ConversationUpdated(tx *store.Tx, c *store.Conversation) {
	tx.Emit(TypeConversationUpdated, conversationKey(c.ID), conversationBuild(c))
}

func conversationKey(id int64) string { return "conversation:" + strconv.FormatInt(id, 10) }

func conversationBuild(c *store.Conversation) func(e *store.Event) error {
	return func(e *store.Event) error {
		e.InboxID, e.ConversationID = ptr(c.InboxID), ptr(c.ID)
		var err error
		e.Data, err = marshal(view.SharedConversation(c))
		return err
	}
}

// ConversationRemoved tells the members of fromInboxID that the conversation left their inbox.
func ConversationRemoved(tx *store.Tx, conversationID, fromInboxID int64, reason string) {
	key := "conversation-removed:" + strconv.FormatInt(conversationID, 10) + ":" + strconv.FormatInt(fromInboxID, 10)
	tx.Emit(TypeConversationRemoved, key, func(e *store.Event) error {
		e.InboxID, e.ConversationID = ptr(fromInboxID), ptr(conversationID)
		var err error
		e.Data, err = marshal(map[string]any{"id": conversationID, "inbox_id": fromInboxID, "reason": reason})
		return err
	})
}

// ConversationRead tells the user's other tabs and devices that they read the conversation.
func ConversationRead(tx *store.Tx, conversationID, inboxID, userID int64) {
	key := "conversation-read:" + strconv.FormatInt(conversationID, 10) + ":" + strconv.FormatInt(userID, 10)
	tx.Emit(TypeConversationRead, key, func(e *store.Event) error {
		e.InboxID, e.ConversationID, e.UserID = ptr(inboxID), ptr(conversationID), ptr(userID)
		var err error
		e.Data, err = marshal(map[string]any{"conversation_id": conversationID, "unread": false})
		return err
	})
}

// MessageCreated records a new message of a conversation in inboxID. Pass the struct inserted.
func MessageCreated(tx *store.Tx, m *store.Message, inboxID int64) {
	tx.Emit(TypeMessageCreated, messageKey(m.ID), messageBuild(m, inboxID))
}

// MessageUpdated records a change to a message (delivery status, failure reason, provider id).
// Pass the message as it now is in the database.
func MessageUpdated(tx *store.Tx, m *store.Message, inboxID int64) {
	tx.Emit(TypeMessageUpdated, messageKey(m.ID), messageBuild(m, inboxID))
}

func messageKey(id int64) string { return "message:" + strconv.FormatInt(id, 10) }

func messageBuild(m *store.Message, inboxID int64) func(e *store.Event) error {
	return func(e *store.Event) error {
		e.InboxID, e.ConversationID = ptr(inboxID), ptr(m.ConversationID)
		var err error
		e.Data, err = marshal(view.NewMessage(m))
		return err
	}
}

// CommentCreated records a new internal note of a conversation in inboxID.
func CommentCreated(tx *store.Tx, c *store.Comment, inboxID int64) {
	tx.Emit(TypeCommentCreated, "comment:"+strconv.FormatInt(c.ID, 10), func(e *store.Event) error {
		e.InboxID, e.ConversationID = ptr(inboxID), ptr(c.ConversationID)
		var err error
		e.Data, err = marshal(view.NewComment(c))
		return err
	})
}

// AccessData is the data of an access.changed event.
type AccessData struct {
	// All means anyone's visibility may have changed (an inbox's access, a team).
	All bool `json:"all,omitempty"`
	// UserIDs lists the users whose visibility or account changed.
	UserIDs []int64 `json:"user_ids,omitempty"`
}

// AccessChanged records that who may see which inbox changed: for the given users, or for
// everyone when userIDs is empty.
func AccessChanged(tx *store.Tx, userIDs ...int64) {
	tx.Emit(TypeAccessChanged, "", func(e *store.Event) error {
		d := AccessData{All: len(userIDs) == 0, UserIDs: userIDs}
		var err error
		e.Data, err = marshal(d)
		return err
	})
}
