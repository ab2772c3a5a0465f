package caddymodule

import (
	"sync/atomic"
	"time"
)

// logThrottle lets one event through per minute, so a repeated warning is logged at most
// once a minute.
type logThrottle struct {
	last atomic.Int64 // unix nanoseconds of the last event let through
}

// allow reports whether an event may be logged now.
func (e *logThrottle) allow() bool {
	now := time.Now().UnixNano()
	last := e.last.Load()
	if last != 0 && now-last < int64(time.Minute) {
		return false
	}
	return e.last.CompareAndSwap(last, now)
}
