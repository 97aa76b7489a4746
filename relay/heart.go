package relay

import (
	"sync"
	"time"

	"github.com/chatbot-go/chatbot/internal/config"
)

// heart writes the heartbeats of all the open streams of one [Handler] on a
// single timer, instead of a timer per stream (about 150 bytes each, held
// as long as the stream); a stream relayed by [Write] alone has a heart of
// its own. There is no package-level state: a heart lives as long as its
// Handler, and holds no timer while it has no streams. While it has streams it ticks every half
// interval, and a stream that has been silent for the interval or more
// gets a heartbeat: the first one between one and one and a half intervals
// after the last write, then one every interval.
//
// Each tick runs in a goroutine of its own (the timer's) and writes its
// heartbeats one after the other, so that thousands of silent streams cost
// no burst of goroutines. It skips a stream whose write is under way, and
// a heartbeat that a stalled browser blocks holds up only the rest of its
// own tick: the next tick, half an interval later, runs without it.
type heart struct {
	clock config.Clock
	every time.Duration

	mu    sync.Mutex
	head  *sender      // the streams, linked through sender.prev and next
	timer config.Timer // armed while head is not nil
}

func (h *heart) tick() time.Duration { return max(h.every/2, 1) }

// add links s, which has just started, and starts ticking if it is the
// first stream.
func (h *heart) add(s *sender) {
	s.last.Store(h.clock.Now().UnixNano())
	h.mu.Lock()
	defer h.mu.Unlock()
	s.next = h.head
	if h.head != nil {
		h.head.prev = s
	}
	h.head = s
	switch {
	case s.next != nil: // already ticking
	case h.timer == nil:
		h.timer = h.clock.AfterFunc(h.tick(), h.beat)
	default:
		h.timer.Reset(h.tick())
	}
}

// remove unlinks s, and stops ticking when it was the last stream.
func (h *heart) remove(s *sender) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		h.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	}
	s.prev, s.next = nil, nil
	if h.head == nil {
		h.timer.Stop()
	}
}

// beat is a tick: it arms the next one, then writes a heartbeat to each
// stream silent for an interval or more.
func (h *heart) beat() {
	now := h.clock.Now().UnixNano()
	var due []*sender
	h.mu.Lock()
	for s := h.head; s != nil; s = s.next {
		if now-s.last.Load() >= int64(h.every) {
			due = append(due, s)
		}
	}
	if h.head != nil { // else the last stream left as the timer fired
		h.timer.Reset(h.tick())
	}
	h.mu.Unlock()
	for _, s := range due {
		s.beat(now)
	}
}
