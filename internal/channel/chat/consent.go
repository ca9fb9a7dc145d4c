package chat

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Consent (CHAT-12). A chatflow asks for none, implicit or explicit consent. Explicit: the
// widget shows the text and an "I agree" button, which sends {"type":"consent","flow_id":N};
// messages before it are refused with consent_required. Implicit: the text is shown and the
// first message agrees. Either way the contact keeps a record of the exact text and privacy
// link shown and when (store.Consent); consent to an earlier wording of the text does not count.

// frameConsent is the visitor's explicit consent.
const frameConsent = "consent"

// CodeConsentRequired refuses a message sent before explicit consent.
const CodeConsentRequired = "consent_required"

// consentGiven says whether the visitor consented to the flow's current text (true when the
// flow asks for none).
func (s *Service) consentGiven(ctx context.Context, visitorID int64, f *chatflow.Flow) (bool, error) {
	if f == nil || f.Consent.Mode == chatflow.ConsentNone {
		return true, nil
	}
	_, err := s.Store.VisitorConsent(ctx, visitorID, f.ID, f.Consent.Text)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// requireConsent refuses a message to a flow with explicit consent the visitor has not given.
func (s *Service) requireConsent(ctx context.Context, visitorID int64, f *chatflow.Flow) error {
	if f.Consent.Mode != chatflow.ConsentExplicit {
		return nil
	}
	ok, err := s.consentGiven(ctx, visitorID, f)
	if err != nil {
		return err
	}
	if !ok {
		return problem.Forbiddenf(CodeConsentRequired, "agree to the chat's privacy terms before sending a message")
	}
	return nil
}

// recordImplicitConsent records, in the receive transaction of a visitor's message, the
// consent that a flow with implicit consent takes from it, once per wording.
func recordImplicitConsent(ctx context.Context, tx *store.Tx, visitorID, channelID int64, f *chatflow.Flow) error {
	if f.Consent.Mode != chatflow.ConsentImplicit {
		return nil
	}
	if _, err := tx.VisitorConsent(ctx, visitorID, f.ID, f.Consent.Text); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return tx.InsertConsent(ctx, &store.Consent{VisitorID: &visitorID, ChannelID: &channelID, FlowID: f.ID,
		Mode: store.ConsentImplicit, Text: f.Consent.Text, PrivacyURL: f.Consent.PrivacyURL})
}

// consent records a visitor's explicit consent to the flow of their page and confirms it with
// {"type":"consent","flow_id":N,"given":true}. A flow the visitor is not on, or one that asks
// for no consent, is refused: the record must name what the visitor was shown.
func (sess *session) consent(ctx context.Context, flowID int64) {
	s, v := sess.svc, sess.visitor
	f, _, err := s.visitorChatflow(ctx, sess.w.ch.ID, v.ID)
	if err != nil {
		if ctx.Err() == nil {
			s.log().Warn("chat: consent", "visitor_id", v.ID, "err", err)
		}
		sess.conn.Push(outgoing{data: errorFrame("internal", "the consent could not be saved; send it again", "")})
		return
	}
	if f == nil || f.ID != flowID || f.Consent.Mode == chatflow.ConsentNone {
		sess.conn.Push(outgoing{data: errorFrame(CodeChatflowNotFound, "that chatflow asks no consent on this page", "")})
		return
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.VisitorConsent(ctx, v.ID, f.ID, f.Consent.Text); err == nil {
			return nil // given already, in this wording
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		chID := sess.w.ch.ID
		c := &store.Consent{VisitorID: &v.ID, ChannelID: &chID, FlowID: f.ID, Mode: store.ConsentExplicit,
			Text: f.Consent.Text, PrivacyURL: f.Consent.PrivacyURL}
		if conv, err := tx.ConversationByThread(ctx, chID, v.ThreadKey()); err == nil {
			c.ContactID = conv.ContactID
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.InsertConsent(ctx, c)
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log().Warn("chat: record consent", "visitor_id", v.ID, "err", err)
		}
		sess.conn.Push(outgoing{data: errorFrame("internal", "the consent could not be saved; send it again", "")})
		return
	}
	b, _ := json.Marshal(map[string]any{"type": "consent", "flow_id": f.ID, "given": true})
	s.pushEverywhere(v.ID, b)
}
