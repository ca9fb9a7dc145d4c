package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/routing"
	"github.com/parley-inbox/parley/internal/store"
)

// Automatic assignment (SPEC ROUTE-1…7). The routing package decides; this file applies its
// decisions through the updater, the path of a manual assignment, so both write the same
// timeline events and realtime events. Every decision runs under the routing lock
// (store.Tx.LockRouting), held from reading the candidates' open counts to commit, so two
// conversations arriving at once never both take a user's last free slot.

// now is the clock routing decides by (working hours); tests set Service.Now.
func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// routingPageSize is how many waiting conversations drainWaiting reads at a time.
const routingPageSize = 200

// inInbox reports whether c is filed in the inbox: not spam, not filtered (EMAIL-8), not in the
// trash. Only such conversations are routed and count against capacity, as the store's
// "spam = 0 AND trashed_at IS NULL" conditions and open counts have it.
func inInbox(c *store.Conversation) bool {
	return !c.Spam && !c.Filtered && c.TrashedAt == nil
}

// waitable reports whether a conversation still needs an assignee from routing.
func waitable(c *store.Conversation) bool {
	return c.Status == "open" && c.AssigneeID == nil && inInbox(c)
}

// countsForCapacity reports whether c counts against its assignee's capacity.
func countsForCapacity(c *store.Conversation) bool {
	return c.AssigneeID != nil && c.Status == "open" && inInbox(c)
}

// routeOnReceive routes a conversation that an inbound message just opened (ROUTE-1) or reopened
// (ROUTE-7), when its channel assigns automatically, or by rule when set (a chatflow's hand-off).
// The caller writes c afterwards.
func (s *Service) routeOnReceive(ctx context.Context, tx *store.Tx, ch *store.Channel, c *store.Conversation, reopened bool, rule *store.RoutingRule) error {
	if c.Status != "open" || !inInbox(c) || (!reopened && c.AssigneeID != nil) {
		return nil
	}
	if rule == nil {
		var err error
		if rule, err = tx.RoutingRule(ctx, ch.ID); err != nil {
			return err
		}
	}
	if !rule.Enabled {
		return nil
	}
	if err := tx.LockRouting(ctx); err != nil {
		return err
	}
	var previous *int64
	if reopened {
		// Closing keeps the assignee, so a reopened conversation usually still has one; if it was
		// unassigned since, the one before counts.
		previous = c.AssigneeID
		if previous == nil {
			previous = c.PreviousAssigneeID
		}
	}
	_, err := s.route(ctx, tx, rule, ch, c, previous, s.now())
	return err
}

// ruleFor returns the rule that routes c on ch: RoutingRuleFor's, else the channel's.
func (s *Service) ruleFor(ctx context.Context, tx *store.Tx, ch *store.Channel, c *store.Conversation) (*store.RoutingRule, error) {
	if s.RoutingRuleFor != nil {
		rule, err := s.RoutingRuleFor(ctx, tx, ch, c)
		if err != nil || rule != nil {
			return rule, err
		}
	}
	return tx.RoutingRule(ctx, ch.ID)
}

// route decides who gets c and applies the decision to c in memory, writing the timeline event
// and routing's own state; the caller writes c when route reports a change. previous, when set,
// is tried first (ROUTE-7). The caller holds the routing lock and has checked that the rule is
// enabled and that c is open and in the inbox (not spam, filtered or in the trash).
//
// When nobody is eligible c waits (ROUTE-4, ROUTE-5): it is unassigned — a reopened
// conversation whose assignee is away or full goes to the Unassigned view rather than sitting
// unseen — and put on the waiting list with a routing_waiting event, the first time only.
func (s *Service) route(ctx context.Context, tx *store.Tx, rule *store.RoutingRule, ch *store.Channel, c *store.Conversation, previous *int64, now time.Time) (changed bool, err error) {
	snap, err := routing.Load(ctx, tx, routing.Input{Rule: rule, Channel: ch, Conversation: c, PreviousAssigneeID: previous, Now: now})
	if err != nil {
		return false, err
	}
	d := routing.Decide(snap)
	u := &updater{ctx: ctx, tx: tx, c: c, now: now.UnixMilli()}
	if d.AssigneeID != 0 {
		if err := tx.ClearRoutingWaiting(ctx, c.ID); err != nil {
			return false, err
		}
		if c.AssigneeID != nil && *c.AssigneeID == d.AssigneeID {
			return false, nil // reopened, and it stays with its eligible assignee
		}
		u.explain = routing.Explain(rule, d)
		if err := u.setAssignee(&d.AssigneeID, "routing"); err != nil {
			return false, fmt.Errorf("routing: assign conversation %d to user %d: %w", c.ID, d.AssigneeID, err)
		}
		if err := tx.RecordRoutingAssignment(ctx, ch.ID, d.AssigneeID, now.UnixMilli()); err != nil {
			return false, err
		}
		return true, nil
	}
	if c.AssigneeID != nil {
		if err := u.setAssignee(nil, "routing"); err != nil {
			return false, err
		}
		changed = true
	}
	added, err := tx.MarkRoutingWaiting(ctx, c.ID, ch.ID, now.UnixMilli())
	if err != nil {
		return false, err
	}
	if added {
		if err := addEvent(ctx, tx, c.ID, nil, "routing_waiting", routing.Explain(rule, d)); err != nil {
			return false, err
		}
	}
	return changed, nil
}

// routeAfterUpdate keeps routing in step with a change a person made to c (before is c as it
// was): a conversation that no longer needs routing, or whose assignee a person chose (even
// none), leaves the waiting list; one reopened by hand without an assignee goes to its previous
// assignee or through routing (ROUTE-7); and when the change freed a slot of the assignee's
// capacity — closed, reassigned, unassigned, marked as spam, trashed — waiting conversations are
// offered again (ROUTE-4). c has been written.
func (s *Service) routeAfterUpdate(ctx context.Context, tx *store.Tx, before, c *store.Conversation) error {
	assigneeChanged := (before.AssigneeID == nil) != (c.AssigneeID == nil) ||
		(c.AssigneeID != nil && *c.AssigneeID != *before.AssigneeID)
	if (waitable(before) && !waitable(c)) || assigneeChanged {
		if err := tx.ClearRoutingWaiting(ctx, c.ID); err != nil {
			return err
		}
	}
	if before.Status != "closed" && c.Status == "closed" && s.Closed != nil {
		if err := s.Closed(ctx, tx, c); err != nil {
			return err
		}
	}
	if before.Status == "closed" && waitable(c) && c.ChannelID != nil {
		ch, err := tx.Channel(ctx, *c.ChannelID)
		if err != nil {
			return fmt.Errorf("routing: channel of conversation %d: %w", c.ID, err)
		}
		rule, err := s.ruleFor(ctx, tx, ch, c)
		if err != nil {
			return err
		}
		if rule.Enabled {
			if err := tx.LockRouting(ctx); err != nil {
				return err
			}
			changed, err := s.route(ctx, tx, rule, ch, c, c.PreviousAssigneeID, s.now())
			if err != nil {
				return err
			}
			if changed {
				if err := tx.UpdateConversation(ctx, c); err != nil {
					return err
				}
				events.ConversationUpdated(tx, c)
			}
		}
	}
	freed := countsForCapacity(before) && !(countsForCapacity(c) && *c.AssigneeID == *before.AssigneeID)
	if freed {
		if _, err := s.drainWaiting(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// drainWaiting offers the waiting conversations, oldest first, to whoever can take them now; it
// returns how many were assigned. Call it in the transaction of whatever may have made room:
// a freed slot, raised capacity, a user becoming available, changed working hours or rule.
//
// It takes the routing lock before reading the list, so a conversation that a concurrent
// decision is putting on the list is either seen here or was decided after this transaction's
// change. Conversations another transaction holds are skipped rather than waited for (that
// transaction may be waiting for the routing lock); the next drain or the periodic one takes them.
func (s *Service) drainWaiting(ctx context.Context, tx *store.Tx) (int, error) {
	// Conversations with a rule of their own (RoutingRuleFor: chats) may wait whatever the
	// channels' rules say.
	if on, err := tx.AnyRoutingEnabled(ctx); err != nil || (!on && s.RoutingRuleFor == nil) {
		return 0, err
	}
	if err := tx.LockRouting(ctx); err != nil {
		return 0, err
	}
	now := s.now()
	rules := map[int64]*store.RoutingRule{}
	channels := map[int64]*store.Channel{}
	// full holds the channels whose users-and-teams selection had nobody eligible in this pass:
	// nothing this pass does makes room, so their other waiting conversations need no decision.
	full := map[int64]bool{}
	assigned := 0
	var afterSince, afterID int64
	for {
		page, err := tx.RoutingWaiting(ctx, afterSince, afterID, routingPageSize)
		if err != nil {
			return assigned, err
		}
		for _, w := range page {
			afterSince, afterID = w.Since, w.ConversationID
			if full[w.ChannelID] && w.PreviousAssigneeID == nil {
				continue
			}
			c, err := tx.ConversationNoWait(ctx, w.ConversationID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return assigned, err
			}
			ch, ok := channels[w.ChannelID]
			if !ok {
				if ch, err = tx.Channel(ctx, w.ChannelID); err != nil {
					return assigned, fmt.Errorf("routing: channel %d: %w", w.ChannelID, err)
				}
				channels[w.ChannelID] = ch
			}
			// A conversation with a rule of its own (a chat's chatflow) is decided by it, and
			// says nothing about the channel's other conversations.
			var rule *store.RoutingRule
			own := false
			if s.RoutingRuleFor != nil {
				if rule, err = s.RoutingRuleFor(ctx, tx, ch, c); err != nil {
					return assigned, err
				}
				own = rule != nil
			}
			if !own {
				if rule, ok = rules[w.ChannelID]; !ok {
					if rule, err = tx.RoutingRule(ctx, w.ChannelID); err != nil {
						return assigned, err
					}
					rules[w.ChannelID] = rule
				}
			}
			if !waitable(c) || !rule.Enabled || c.ChannelID == nil || *c.ChannelID != w.ChannelID {
				if err := tx.ClearRoutingWaiting(ctx, c.ID); err != nil {
					return assigned, err
				}
				continue
			}
			changed, err := s.route(ctx, tx, rule, ch, c, c.PreviousAssigneeID, now)
			if err != nil {
				return assigned, err
			}
			if changed {
				if err := tx.UpdateConversation(ctx, c); err != nil {
					return assigned, err
				}
				events.ConversationUpdated(tx, c)
				assigned++
			} else if !own && c.PreviousAssigneeID == nil && rule.AssignTo == routing.AssignUsersAndTeams {
				full[w.ChannelID] = true
			}
		}
		if len(page) < routingPageSize {
			return assigned, nil
		}
	}
}

// RouteWaiting offers the waiting conversations to whoever can take them now and returns how
// many were assigned. Working hours start without anyone doing anything, so RunRouting calls it
// periodically; every other way of making room drains in its own transaction.
func (s *Service) RouteWaiting(ctx context.Context) (int, error) {
	var n int
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = s.drainWaiting(ctx, tx)
		return err
	})
	return n, err
}

// RunRouting calls RouteWaiting every interval until ctx ends. Several nodes running it is
// harmless: the routing lock serialises them and a drained conversation is no longer waiting.
func (s *Service) RunRouting(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.RouteWaiting(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("route waiting conversations", "err", err)
		} else if n > 0 {
			s.Log.Info("routed waiting conversations", "count", n)
		}
	}
}
