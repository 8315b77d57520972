package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// TicketsChannel is the notification channel of ticket changes: the payload
// is "<ticket id>:<ticket_changes id>".
const TicketsChannel = "tickets"

// ticketReplayMargin widens the replay after a reconnection to changes
// recorded shortly before the connection was lost: a transaction that took
// its change id before a later one was delivered may commit after it.
const ticketReplayMargin = 10 * time.Second

// ticketHub fans the ticket changes (from any process) out to this
// process's queue subscribers over the process's Listener. Every change is
// recorded in ticket_changes with its ticket, so after a reconnection the
// hub replays the changes it missed to its subscribers.
type ticketHub struct {
	db   *DB
	mu   sync.Mutex
	subs map[chan int64]struct{}
	// last is the highest ticket_changes id delivered; lost the time the
	// connection was lost (zero while connected).
	last int64
	lost time.Time
	// missed are the tickets changed while disconnected, found by resync
	// and delivered once the listener reports itself connected.
	missed []int64
}

func newTicketHub(db *DB, l *Listener) *ticketHub {
	h := &ticketHub{db: db, subs: map[chan int64]struct{}{}}
	l.Handle(TicketsChannel, h.notify, h.resync)
	l.OnState(func(connected bool) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if !connected {
			if h.lost.IsZero() {
				h.lost = db.now()
			}
			return
		}
		// Every resync has run (the grants are current again): deliver
		// the changes missed while disconnected.
		for _, id := range h.missed {
			h.fanOut(id)
		}
		h.missed = nil
	})
	return h
}

func (h *ticketHub) subscribe() (chan int64, func()) {
	ch := make(chan int64, 256)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

// subscribers returns the number of live subscribers.
func (h *ticketHub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

func (h *ticketHub) notify(payload string) {
	tid, cid, _ := strings.Cut(payload, ":")
	id, err := strconv.ParseInt(tid, 10, 64)
	if err != nil {
		return
	}
	change, _ := strconv.ParseInt(cid, 10, 64)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = max(h.last, change)
	h.fanOut(id)
}

// fanOut sends id to every subscriber; h.mu is held.
func (h *ticketHub) fanOut(id int64) {
	for ch := range h.subs {
		select {
		case ch <- id:
		default: // a subscriber 256 changes behind misses one; its next one refreshes it
		}
	}
}

// resync runs after every (re)connection: the first time it notes where the
// change history stands; later it replays the changes recorded since the
// last delivered one (and since shortly before the connection was lost).
func (h *ticketHub) resync(ctx context.Context) error {
	h.mu.Lock()
	last, lost := h.last, h.lost
	h.mu.Unlock()
	if last == 0 && lost.IsZero() {
		var top int64
		if err := h.db.Pool.QueryRow(ctx, "SELECT COALESCE(max(id), 0) FROM ticket_changes").Scan(&top); err != nil {
			return fmt.Errorf("read ticket changes: %w", err)
		}
		h.mu.Lock()
		h.last = max(h.last, top)
		h.mu.Unlock()
		return nil
	}
	if lost.IsZero() {
		lost = h.db.now()
	}
	rows, err := h.db.Pool.Query(ctx, `SELECT id, ticket_id FROM ticket_changes
		WHERE id > $1 OR changed_at >= $2 ORDER BY id`, last, lost.Add(-ticketReplayMargin))
	if err != nil {
		return fmt.Errorf("replay ticket changes: %w", err)
	}
	type change struct{ ID, Ticket int64 }
	missed, err := pgx.CollectRows(rows, pgx.RowToStructByPos[change])
	if err != nil {
		return fmt.Errorf("replay ticket changes: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[int64]bool{}
	h.missed = h.missed[:0]
	for _, c := range missed {
		h.last = max(h.last, c.ID)
		if !seen[c.Ticket] {
			seen[c.Ticket] = true
			h.missed = append(h.missed, c.Ticket)
		}
	}
	h.lost = time.Time{}
	return nil
}

// QueueSubscribers returns the number of this process's live queue
// subscriptions (SubscribeQueue), for metrics and tests. Errors: none.
func (s *TicketService) QueueSubscribers() int {
	if s.DB.Listener == nil || s.DB.Listener.tickets == nil {
		return 0
	}
	return s.DB.Listener.tickets.subscribers()
}

// SubscribeQueue implements healthcode.TicketService. Changes arrive through
// the process's Listener (DB.Listener); after it reconnects, the changes it
// missed are replayed. Errors: UNAUTHENTICATED, FORBIDDEN, UNAVAILABLE when
// the process runs no listener.
func (s *TicketService) SubscribeQueue(ctx context.Context, unitID int64) (<-chan *healthcode.Ticket, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	visible, err := s.visible(ctx, a, healthcode.PermTicketDispatch, healthcode.PermTicketSupervise, healthcode.PermTicketHandle)
	if err != nil {
		return nil, err
	}
	if len(visible) == 0 {
		return nil, healthcode.ErrForbidden
	}
	if s.DB.Listener == nil || s.DB.Listener.tickets == nil {
		return nil, healthcode.Errorf(healthcode.EUNAVAILABLE, "实时更新暂不可用，请稍后重试")
	}
	ids, cancel := s.DB.Listener.tickets.subscribe()
	out := make(chan *healthcode.Ticket, 16)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case id := <-ids:
				// Each change is checked against the subscriber's own grants;
				// a dependency that is down for a moment (the listener's
				// reconnection, a database restart) is waited for.
				t, err := s.FindTicket(ctx, id)
				for wait := 100 * time.Millisecond; healthcode.Unavailable(err) && wait < 10*time.Second; wait *= 2 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(wait):
					}
					t, err = s.FindTicket(ctx, id)
				}
				if err != nil || (unitID != 0 && (t.Unit == nil || t.Unit.ID != unitID)) {
					continue
				}
				select {
				case out <- t:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
