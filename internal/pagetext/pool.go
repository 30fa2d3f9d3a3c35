package pagetext

import (
	"io"
	"math/bits"
	"sync"
)

// Bodies and decoded texts are read into buffers borrowed from pools of size classes, so
// that a probe of a 50 KB page every few seconds does not allocate a fresh 50 KB (or, for
// a page of unknown length, a chain of growing ones) each time. A class holds buffers of
// one capacity, a power of two from 16 KiB to 128 MiB (above the largest max_body_bytes);
// a body is read into the class its Content-Length (or, unknown, the smallest) calls for
// and moves up a class at a time, never past its limit. The pools are sync.Pools: the
// garbage collector empties them when they are not used.
const (
	minClassShift = 14 // 16 KiB
	numClasses    = 14 // up to 128 MiB
)

var pools [numClasses]sync.Pool

// classOf is the smallest class whose buffers hold n bytes, numClasses if none does.
func classOf(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minClassShift
}

// GetBuffer borrows an empty buffer with room for at least n bytes. Give it back with
// PutBuffer once nothing refers to its bytes any more.
func GetBuffer(n int) *[]byte {
	c := classOf(n)
	if c >= numClasses {
		b := make([]byte, 0, n)
		return &b
	}
	if b, ok := pools[c].Get().(*[]byte); ok {
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, 1<<(c+minClassShift))
	return &b
}

// PutBuffer gives a buffer back to its pool. b must not be used afterwards.
func PutBuffer(b *[]byte) {
	if b == nil || cap(*b) < 1<<minClassShift {
		return
	}
	// The class whose size the capacity reaches: a buffer serves a request of at most its
	// class's size.
	c := bits.Len(uint(cap(*b))) - 1 - minClassShift
	if c >= numClasses {
		return
	}
	pools[c].Put(b)
}

// grow returns a buffer holding b's bytes with room for at least extra more, giving b back.
func grow(b *[]byte, extra int) *[]byte {
	if cap(*b)-len(*b) >= extra {
		return b
	}
	nb := GetBuffer(max(2*cap(*b), len(*b)+extra))
	*nb = append(*nb, *b...)
	PutBuffer(b)
	return nb
}

// ReadPooled reads r to its end into a borrowed buffer (give it back with PutBuffer, also
// after an error). More than limit bytes is ErrTooLarge, found on reading byte limit+1:
// memory stays within about twice the limit whatever r holds. sizeHint is the expected
// size (a Content-Length), negative when unknown; it only chooses the first buffer.
func ReadPooled(r io.Reader, limit, sizeHint int64) (*[]byte, error) {
	first := 1 << minClassShift
	if sizeHint >= 0 {
		// Room for one byte more, so that the end is seen without moving up a class.
		first = int(min(sizeHint, limit) + 1)
	}
	b := GetBuffer(first)
	for {
		if len(*b) == cap(*b) {
			b = grow(b, int(min(int64(cap(*b)), limit+1-int64(len(*b)))))
		}
		room := (*b)[len(*b):cap(*b)]
		if over := int64(len(*b)) + int64(len(room)) - (limit + 1); over > 0 {
			room = room[:int64(len(room))-over]
		}
		n, err := r.Read(room)
		*b = (*b)[:len(*b)+n]
		if int64(len(*b)) > limit {
			return b, ErrTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
