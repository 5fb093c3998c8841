package id

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// UUID is an RFC 9562 UUID. It is written here rather than imported so that
// the domain depends on nothing but the standard library.
type UUID [16]byte

// String is the canonical lower-case 8-4-4-4-12 form.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

// ParseUUID reads the canonical 8-4-4-4-12 form, in either case, and
// nothing else.
func ParseUUID(s string) (UUID, bool) {
	var u UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	hexDigits := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(u[:], []byte(hexDigits)); err != nil {
		return UUID{}, false
	}
	return u, true
}

// v7 generates UUIDv7s that increase strictly within this process: 48 bits
// of Unix milliseconds, then a 12-bit counter that starts at a random value
// each millisecond (and carries into the milliseconds when it overflows),
// then 62 random bits.
var v7 struct {
	sync.Mutex
	ms      int64
	counter uint16
}

const maxCounter = 0xfff

func newV7(now time.Time) UUID {
	var u UUID
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails (Go ≥ 1.24)

	v7.Lock()
	ms := now.UnixMilli()
	if ms > v7.ms {
		v7.ms = ms
		v7.counter = binary.BigEndian.Uint16(u[6:8]) & (maxCounter >> 1) // leave room to count up
	} else if v7.counter++; v7.counter > maxCounter {
		v7.ms++
		v7.counter = 0
	}
	ms, counter := v7.ms, v7.counter
	v7.Unlock()

	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = 0x70 | byte(counter>>8)
	u[7] = byte(counter)
	u[8] = 0x80 | u[8]&0x3f
	return u
}

// Time is when a UUIDv7 was made, to the millisecond (its first 48 bits).
func (u UUID) Time() time.Time {
	ms := int64(u[0])<<40 | int64(u[1])<<32 | int64(u[2])<<24 | int64(u[3])<<16 | int64(u[4])<<8 | int64(u[5])
	return time.UnixMilli(ms).UTC()
}

// firstV7At is the smallest UUIDv7 of the millisecond t falls in: every
// UUIDv7 made before that millisecond is smaller.
func firstV7At(t time.Time) UUID {
	var u UUID
	ms := t.UnixMilli()
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6], u[8] = 0x70, 0x80
	return u
}
