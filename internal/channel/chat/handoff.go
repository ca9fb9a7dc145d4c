package chat

import (
	"context"
	"errors"
	"slices"

	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
)

// Hand-off (CHAT-3, CHAT-5): a chat goes to people by its chatflow's hand-off rule, not by the
// chat channel's routing rule. The flow is the one of the page the visitor's latest session was
// on (chat_visitors.flow_id, set by StartSession).

// handOffRule is a flow's hand-off as routing's rule. A users-and-teams hand-off naming nobody
// assigns nobody: the chat stays unassigned for anyone in the inbox to take, as the flow's
// availability counts everyone then (anyoneAvailable), rather than waiting for an empty list.
func handOffRule(channelID int64, h chatflow.HandOff) *store.RoutingRule {
	r := &store.RoutingRule{ChannelID: channelID, Enabled: true, AssignTo: h.AssignTo,
		UserIDs: slices.Clone(h.UserIDs), TeamIDs: slices.Clone(h.TeamIDs), OnlyAvailable: h.OnlyAvailable,
		Strategy: h.Strategy}
	if r.UserIDs == nil {
		r.UserIDs = []int64{}
	}
	if r.TeamIDs == nil {
		r.TeamIDs = []int64{}
	}
	if h.AssignTo == chatflow.AssignUsersAndTeams && len(h.UserIDs) == 0 && len(h.TeamIDs) == 0 {
		r.Enabled = false
	}
	return r
}

// visitorFlow returns the chatflow of the visitor's page (nil when none matched or it was
// deleted since) and what migration 00017 keeps on the visitor.
func (s *Service) visitorChatflow(ctx context.Context, channelID, visitorID int64) (*chatflow.Flow, *store.ChatVisitorAway, error) {
	a, err := s.Store.ChatVisitorAway(ctx, visitorID)
	if err != nil {
		return nil, nil, err
	}
	if a.FlowID == nil {
		return nil, a, nil
	}
	flows, err := s.flows(ctx, channelID)
	if err != nil {
		return nil, nil, err
	}
	for i := range flows {
		if flows[i].ID == *a.FlowID {
			return &flows[i], a, nil
		}
	}
	return nil, a, nil
}

// RoutingRuleFor is inbox.Service.RoutingRuleFor: a chat conversation routed later — waiting for
// someone, or reopened by hand — goes by its visitor's chatflow too. Other conversations, and
// chats whose visitor has no flow, get nil (the channel's rule).
func (s *Service) RoutingRuleFor(ctx context.Context, tx *store.Tx, ch *store.Channel, c *store.Conversation) (*store.RoutingRule, error) {
	if ch.Kind != Kind {
		return nil, nil
	}
	visitorID, ok := visitorOf(c.ThreadKey)
	if !ok {
		return nil, nil
	}
	a, err := tx.ChatVisitorAway(ctx, visitorID)
	if errors.Is(err, store.ErrNotFound) || err == nil && a.FlowID == nil {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	row, err := tx.Chatflow(ctx, *a.FlowID)
	if errors.Is(err, store.ErrNotFound) || err == nil && row.ChannelID != ch.ID {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	f, err := chatflow.Parse(row.Flow)
	if err != nil {
		s.log().Warn("chat: a stored chatflow does not validate; routing by the channel's rule", "chatflow_id", row.ID, "err", err)
		return nil, nil
	}
	return handOffRule(ch.ID, f.HandOff), nil
}

// prepared is what a visitor's message learned from its chatflow before it was stored.
type prepared struct {
	flow *chatflow.Flow
	away *store.ChatVisitorAway
}

// prepareMessage readies a visitor's message for its chatflow: explicit consent is required
// before it (consent_required), the flow's hand-off routes it, and the receive transaction
// records implicit consent, links the visitor to their contact and offers the contact the
// address the visitor left. A plain chat without a flow keeps the channel's rule.
func (sess *session) prepareMessage(ctx context.Context, in *inbox.Inbound) (*prepared, error) {
	s, v := sess.svc, sess.visitor
	flow, away, err := s.visitorChatflow(ctx, sess.w.ch.ID, v.ID)
	if err != nil {
		return nil, err
	}
	p := &prepared{flow: flow, away: away}
	if flow != nil {
		if err := s.requireConsent(ctx, v.ID, flow); err != nil {
			return nil, err
		}
		in.RoutingRule = handOffRule(sess.w.ch.ID, flow.HandOff)
	}
	next := in.Stored
	in.Stored = func(ctx context.Context, tx *store.Tx, msg *store.Message, conv *store.Conversation) error {
		if next != nil {
			if err := next(ctx, tx, msg, conv); err != nil {
				return err
			}
		}
		if conv.ContactID == nil {
			return nil
		}
		contactID := *conv.ContactID
		if err := tx.SetChatVisitorContact(ctx, v.ID, contactID); err != nil {
			return err
		}
		if flow != nil {
			if err := recordImplicitConsent(ctx, tx, v.ID, sess.w.ch.ID, flow); err != nil {
				return err
			}
		}
		if err := tx.LinkVisitorConsents(ctx, v.ID, contactID); err != nil {
			return err
		}
		if away.CollectedEmail != "" {
			// Unverified: offered to the contact only when nobody holds it (AddContactIdentity
			// leaves another contact's address alone); never the visitor's identity (CHAT-8).
			if _, err := tx.AddContactIdentity(ctx, contactID, store.Identity{Kind: "email", Value: away.CollectedEmail}); err != nil {
				return err
			}
		}
		return nil
	}
	return p, nil
}

// received tells the visitor, after their message is stored, when nobody will answer soon: the
// flow is away, or routing found nobody eligible and the chat waits (CHAT-6).
func (sess *session) received(ctx context.Context, p *prepared, conv *store.Conversation) {
	if p == nil || p.flow == nil || conv == nil || conv.AssigneeID != nil || conv.Status != "open" {
		return
	}
	s := sess.svc
	st, err := s.flowStatus(ctx, p.flow)
	if err != nil {
		s.log().Warn("chat: flow availability", "chatflow_id", p.flow.ID, "err", err)
		return
	}
	waiting := false
	if !st.Away() {
		if waiting, err = s.Store.ConversationWaiting(ctx, conv.ID); err != nil {
			s.log().Warn("chat: routing waiting", "conversation_id", conv.ID, "err", err)
			return
		}
	}
	if st.Away() || waiting {
		sess.conn.Push(outgoing{data: statusFrame(p.flow, st, emailKnown(sess.visitor, p.away))})
	}
}

// rememberFlow records the chatflow of the visitor's page (StartSession calls it) and says
// whether the visitor has given the consent it asks.
func (s *Service) rememberFlow(ctx context.Context, visitorID int64, f *chatflow.Flow) (bool, error) {
	var id *int64
	if f != nil {
		id = &f.ID
	}
	if err := s.Store.InTx(ctx, func(tx *store.Tx) error { return tx.SetChatVisitorFlow(ctx, visitorID, id) }); err != nil {
		return false, err
	}
	return s.consentGiven(ctx, visitorID, f)
}
