package domain

import "time"

// Timestamp brings t to UTC and to the microsecond, the precision timestamps
// are stored and compared at, so that what is in memory equals what a store
// reads back.
func Timestamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
