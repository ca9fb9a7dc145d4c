package thread

import (
	"context"
	"fmt"
	"strings"
)

// Rule names the rule that placed an inbound email, for the timeline's explanation.
type Rule string

const (
	RuleReplyAddress Rule = "reply_address" // a signed plus address among the recipients
	RuleInReplyTo    Rule = "in_reply_to"   // In-Reply-To names a message of the conversation
	RuleReferences   Rule = "references"    // References names a message of the conversation
	RuleSubjectToken Rule = "subject_token" // [#1042] in the subject, from a participant
	RuleHiddenMarker Rule = "hidden_marker" // our hidden marker in the quoted body
	RuleNew          Rule = "new"           // none matched: a new conversation
)

// Incoming is what Resolve needs of an inbound email.
type Incoming struct {
	// ChannelID is the email channel the mail arrived on; Message-IDs are looked up there.
	ChannelID int64
	// From is the sender's address (the one a participant check compares).
	From string
	// Recipients are the addresses the mail was sent to: To, Cc, Delivered-To, X-Original-To
	// and the envelope recipients, in any order.
	Recipients []string
	// InReplyTo, References and Subject are the raw header values.
	InReplyTo  string
	References string
	Subject    string
	// HTML and Text are the bodies, searched for the hidden marker.
	HTML string
	Text string
}

// Lookup is what Resolve asks the database; *store.Store implements it.
type Lookup interface {
	// EmailConversationsByMessageIDs returns, for those of ids seen on the channel, the
	// conversation each belongs to.
	EmailConversationsByMessageIDs(ctx context.Context, channelID int64, ids []string) (map[string]int64, error)
	// EmailConversationExists reports whether the conversation still exists.
	EmailConversationExists(ctx context.Context, conversationID int64) (bool, error)
	// EmailConversationByNumber returns the conversation with a display number.
	EmailConversationByNumber(ctx context.Context, number int64) (conversationID int64, ok bool, err error)
	// EmailParticipant reports whether address takes part in the conversation.
	EmailParticipant(ctx context.Context, conversationID int64, address string) (bool, error)
}

// Decision is where an inbound email goes and why.
type Decision struct {
	// ConversationID is the conversation to append to; 0 with RuleNew.
	ConversationID int64
	Rule           Rule
	// Evidence is what matched: the plus address, the Message-ID, the subject token or the
	// marker's token.
	Evidence string
	// Ignored lists signals that were present but not trusted (a plus token with a bad
	// signature, a subject token from someone outside the conversation), for the timeline
	// and for spotting hijack attempts.
	Ignored []string
}

// Explain is a short English explanation for logs; the timeline translates Rule itself.
func (d Decision) Explain() string {
	switch d.Rule {
	case RuleNew:
		return "new conversation: no reply address, known Message-ID, marker or trusted subject token"
	default:
		return fmt.Sprintf("conversation %d by %s (%s)", d.ConversationID, d.Rule, d.Evidence)
	}
}

// Resolve applies the threading rules of spec/email.md §4.2 in order and returns the first
// that matches:
//  1. a signed plus-address token among the recipients;
//  2. In-Reply-To, then References newest first: a Message-ID seen on the channel, or one of
//     our own (signed) Message-IDs even when the table has lost it;
//  3. a subject token, only when the sender is a participant of that conversation;
//  4. the hidden marker in the body (for providers that rewrite Message-IDs);
//  5. otherwise a new conversation.
//
// Tokens naming a conversation that no longer exists are skipped, so the next rule decides.
func (t *Threader) Resolve(ctx context.Context, in Incoming, lookup Lookup) (Decision, error) {
	var d Decision
	exists := func(id int64) (bool, error) {
		ok, err := lookup.EmailConversationExists(ctx, id)
		if err != nil {
			return false, fmt.Errorf("thread: conversation %d: %w", id, err)
		}
		return ok, nil
	}

	// 1. Plus address.
	for _, addr := range in.Recipients {
		local, _, _ := cutAddress(strings.TrimSpace(addr))
		if !strings.Contains(local, "+") {
			continue
		}
		id, ok := t.ParseReplyAddress(addr)
		if !ok {
			if looksLikeToken(local) {
				d.Ignored = append(d.Ignored, "reply address with an invalid signature: "+addr)
			}
			continue
		}
		if ok, err := exists(id); err != nil {
			return Decision{}, err
		} else if ok {
			d.ConversationID, d.Rule, d.Evidence = id, RuleReplyAddress, addr
			return d, nil
		}
	}

	// 2. In-Reply-To, then References newest first, in one lookup.
	irt := ParseIDList(in.InReplyTo)
	refs := ParseIDList(in.References)
	type candidate struct {
		id   string
		rule Rule
	}
	var cands []candidate
	for _, id := range irt {
		cands = append(cands, candidate{id, RuleInReplyTo})
	}
	for i := len(refs) - 1; i >= 0; i-- {
		cands = append(cands, candidate{refs[i], RuleReferences})
	}
	if len(cands) > 0 {
		ids := make([]string, 0, len(cands))
		for _, c := range cands {
			ids = append(ids, c.id)
		}
		seen, err := lookup.EmailConversationsByMessageIDs(ctx, in.ChannelID, dedupe(ids))
		if err != nil {
			return Decision{}, fmt.Errorf("thread: message ids: %w", err)
		}
		for _, c := range cands {
			// The table is the record (it follows merges and moves); our signed format is the
			// fallback for ids it has lost.
			id, ok := seen[c.id]
			if !ok {
				if conv, _, ours := t.ParseMessageID(c.id); ours {
					if ok, err = exists(conv); err != nil {
						return Decision{}, err
					}
					id = conv
				}
			}
			if ok {
				d.ConversationID, d.Rule, d.Evidence = id, c.rule, c.id
				return d, nil
			}
		}
	}

	// 3. Subject token, from a participant only.
	for _, n := range SubjectTokens(in.Subject) {
		id, ok, err := lookup.EmailConversationByNumber(ctx, n)
		if err != nil {
			return Decision{}, fmt.Errorf("thread: conversation #%d: %w", n, err)
		}
		if !ok {
			continue
		}
		part, err := lookup.EmailParticipant(ctx, id, strings.ToLower(strings.TrimSpace(in.From)))
		if err != nil {
			return Decision{}, fmt.Errorf("thread: participant of %d: %w", id, err)
		}
		if !part {
			d.Ignored = append(d.Ignored, "subject token "+SubjectToken(n)+" from a sender outside the conversation: "+in.From)
			continue
		}
		d.ConversationID, d.Rule, d.Evidence = id, RuleSubjectToken, SubjectToken(n)
		return d, nil
	}

	// 4. Hidden marker.
	for _, body := range []string{in.HTML, in.Text} {
		id, ok := t.FindMarker(body)
		if !ok {
			continue
		}
		if ok, err := exists(id); err != nil {
			return Decision{}, err
		} else if ok {
			d.ConversationID, d.Rule, d.Evidence = id, RuleHiddenMarker, t.ConversationToken(id)
			return d, nil
		}
	}

	d.Rule = RuleNew
	return d, nil
}

// looksLikeToken reports whether a local part carries something shaped like our token, so a
// bad signature is worth reporting (rather than an ordinary plus tag like "ana+news").
func looksLikeToken(local string) bool {
	tok := local[strings.LastIndexByte(local, '+')+1:]
	p, sig, ok := strings.Cut(strings.ToLower(tok), ".")
	return ok && len(p) > 1 && p[0] == 'c' && len(sig) > 0
}
