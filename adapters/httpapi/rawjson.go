package httpapi

import (
	"bytes"
	"container/heap"
	"math"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Walking JSON without decoding it. A body is read as raw JSON and only
// the parts a handler or a 422 asks for are ever decoded: decoding a body
// whole into an `any` tree took 35 bytes of heap for each byte of
// `{"x":[0,0,…]}` (issue 17). Every function here takes JSON that
// json.Valid accepted, and so never runs off its end.

// skipSpace returns the index of the first byte from i that is not JSON
// white space.
func skipSpace(raw []byte, i int) int {
	for i < len(raw) {
		switch raw[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// valueEnd returns the index just past the value that starts at i.
func valueEnd(raw []byte, i int) int {
	switch raw[i] {
	case '"':
		return stringEnd(raw, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch raw[i] {
			case '"':
				i = stringEnd(raw, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	default: // a number, true, false or null
		for ; i < len(raw); i++ {
			switch raw[i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return i
			}
		}
		return i
	}
}

// stringEnd returns the index just past the string whose opening quote is
// at i. Each byte is looked at once, whatever the escapes.
func stringEnd(raw []byte, i int) int {
	i++
	quote := i + bytes.IndexByte(raw[i:], '"')
	for {
		escape := bytes.IndexByte(raw[i:quote], '\\')
		if escape < 0 {
			return quote + 1
		}
		if i += escape + 2; i > quote { // the quote was escaped
			quote = i + bytes.IndexByte(raw[i:], '"')
		}
	}
}

// first returns where the first element (or member) of the array (or
// object) container starts, or -1 if it is empty.
func first(container []byte) int {
	i := skipSpace(container, 1)
	if container[i] == ']' || container[i] == '}' {
		return -1
	}
	return i
}

// element returns the value that starts at i in an array (or, past the
// colon, in an object), and where the next element starts: -1 after the
// last.
func element(container []byte, i int) (value []byte, next int) {
	i = skipSpace(container, i)
	end := valueEnd(container, i)
	next = skipSpace(container, end)
	if container[next] != ',' {
		next = -1
	} else {
		next = skipSpace(container, next+1)
	}
	return container[i:end:end], next
}

// member returns the quoted name and the value of the member that starts
// at i in an object, and where the next member starts: -1 after the last.
func member(obj []byte, i int) (name, value []byte, next int) {
	end := stringEnd(obj, i)
	value, next = element(obj, skipSpace(obj, end)+1)
	return obj[i:end:end], value, next
}

// unquote decodes a JSON string, or more than limit bytes of it. Most
// strings hold no escape and are their own text.
func unquote(quoted []byte, limit int) []byte {
	text := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(text, '\\') < 0 {
		return text
	}
	return appendUnquoted(nil, quoted, limit)
}

// appendUnquoted appends the text of a JSON string to dst as encoding/json
// decodes it (a lone surrogate becomes U+FFFD), or its first bytes once
// they are more than limit: a name compared with one of n bytes, or a text
// a 422 shows no more than a kilobyte of, is decoded no further. The string
// is valid JSON and valid UTF-8 (readBody checks both).
func appendUnquoted(dst, quoted []byte, limit int) []byte {
	end := len(dst) + len(quoted) // a text is never longer than its JSON
	if limit < len(quoted) {
		end = len(dst) + limit + 1
	}
	text := quoted[1 : len(quoted)-1]
	for len(dst) < end {
		i := bytes.IndexByte(text, '\\')
		if i < 0 {
			i = len(text)
		}
		dst = append(dst, text[:min(i, end-len(dst))]...)
		if i == len(text) || len(dst) == end {
			break
		}
		if text = text[i:]; text[1] != 'u' {
			dst = append(dst, unescaped[text[1]])
			text = text[2:]
			continue
		}
		r := utf16Unit(text)
		text = text[6:]
		if utf16.IsSurrogate(r) {
			if r = utf16.DecodeRune(r, utf16Unit(text)); r != utf8.RuneError {
				text = text[6:] // the pair's second half
			}
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst[:min(len(dst), end)]
}

// unescaped is the byte that each one-letter escape stands for.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// utf16Unit is the code unit that an escape \uXXXX at the start of s
// spells, or -1 if none does.
func utf16Unit(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// namedValue is a member of an object: its decoded name, its raw value.
type namedValue struct {
	name  string
	value []byte
}

// smallestMembers returns the n members of the object obj whose names come
// first in byte order, in that order, each name once with its last value
// (as decoding into a map keeps it). It keeps no more than n of them at any
// time, whatever the size of obj: a 422 shows an object's members in name
// order, and only the first few of a large one.
func smallestMembers(obj []byte, n int) []*namedValue {
	var h largestFirst
	kept := map[string]*namedValue{}
	for i := first(obj); i >= 0; {
		var quoted, value []byte
		quoted, value, i = member(obj, i)
		name := unquote(quoted, math.MaxInt)
		switch m, ok := kept[string(name)]; {
		case ok:
			m.value = value
		case len(h) < n:
			m := &namedValue{string(name), value}
			kept[m.name] = m
			heap.Push(&h, m)
		case string(name) < h[0].name:
			// A name once left out never comes back: every name kept
			// after it is smaller.
			delete(kept, h[0].name)
			m := &namedValue{string(name), value}
			kept[m.name] = m
			h[0] = m
			heap.Fix(&h, 0)
		}
	}
	slices.SortFunc(h, func(a, b *namedValue) int { return strings.Compare(a.name, b.name) })
	return h
}

// largestFirst is a heap of members, the one with the largest name on top.
type largestFirst []*namedValue

func (h largestFirst) Len() int           { return len(h) }
func (h largestFirst) Less(i, j int) bool { return h[i].name > h[j].name }
func (h largestFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *largestFirst) Push(x any)        { *h = append(*h, x.(*namedValue)) }
func (h *largestFirst) Pop() any {
	last := (*h)[len(*h)-1]
	*h = (*h)[:len(*h)-1]
	return last
}
