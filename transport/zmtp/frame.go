package zmtp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Frame flag bits. Bits 3-7 are reserved and must be zero.
const (
	FlagMore    = 0x01
	FlagLong    = 0x02
	FlagCommand = 0x04
	flagsKnown  = FlagMore | FlagLong | FlagCommand
)

// MaxHeaderSize is the longest frame header: flags and an 8-byte size.
const MaxHeaderSize = 9

// FrameOverhead is what each frame is charged against a message size limit
// on top of its body, so that a message of many empty frames (each costing a
// slice header in memory) cannot slip under the limit.
const FrameOverhead = 32

// directAlloc is the largest frame body allocated in one piece as soon as its
// header is read. A larger announced size is believed only as far as bytes
// actually arrive: the buffer grows as they do.
const directAlloc = 64 << 10

// AppendHeader appends the header of a frame whose body is n bytes long.
// flags may hold FlagMore or FlagCommand; FlagLong is set when n needs it.
func AppendHeader(dst []byte, flags byte, n int) []byte {
	if n <= 255 {
		return append(dst, flags&^FlagLong, byte(n))
	}
	dst = append(dst, flags|FlagLong)
	return binary.BigEndian.AppendUint64(dst, uint64(n))
}

// A Reader reads frames and whole messages from a buffered stream.
type Reader struct {
	r *bufio.Reader
	// Limit bounds the size of a message (or command): the sum of its frame
	// bodies plus FrameOverhead per frame. It must be positive.
	Limit int64
}

// NewReader returns a Reader on r with the given message size limit.
func NewReader(r *bufio.Reader, limit int64) *Reader {
	return &Reader{r: r, Limit: limit}
}

// readHeader reads a frame header and checks its flags and its size against
// budget (what is left of the message limit).
func (r *Reader) readHeader(budget int64) (flags byte, n int64, err error) {
	flags, err = r.r.ReadByte()
	if err != nil {
		return 0, 0, err
	}
	if flags&^flagsKnown != 0 {
		return 0, 0, fmt.Errorf("%w: reserved flag bits %#x", ErrFrame, flags)
	}
	if flags&FlagCommand != 0 && flags&FlagMore != 0 {
		return 0, 0, fmt.Errorf("%w: command frame with MORE set", ErrFrame)
	}
	if flags&FlagLong == 0 {
		b, err := r.r.ReadByte()
		if err != nil {
			return 0, 0, noEOF(err)
		}
		n = int64(b)
	} else {
		var b [8]byte
		if _, err := io.ReadFull(r.r, b[:]); err != nil {
			return 0, 0, noEOF(err)
		}
		u := binary.BigEndian.Uint64(b[:])
		if u > uint64(budget) {
			return 0, 0, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrTooLarge, u, r.Limit)
		}
		n = int64(u)
	}
	if n+FrameOverhead > budget {
		return 0, 0, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrTooLarge, n, r.Limit)
	}
	return flags, n, nil
}

// readBody reads an n-byte frame body. Up to directAlloc bytes are allocated
// at once; beyond that the buffer doubles as data arrives, so a peer that
// announces a huge frame and then stalls costs us only what it really sent.
func (r *Reader) readBody(n int64) ([]byte, error) {
	if n <= directAlloc {
		b := make([]byte, n)
		if _, err := io.ReadFull(r.r, b); err != nil {
			return nil, noEOF(err)
		}
		return b, nil
	}
	b := make([]byte, 0, directAlloc)
	for int64(len(b)) < n {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(int64(2*cap(b)), n))
			copy(nb, b)
			b = nb
		}
		m, err := r.r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err != nil && int64(len(b)) < n {
			return nil, noEOF(err)
		}
	}
	return b, nil
}

// Next reads the next command or message. For a command it returns its body
// (see ParseCommand) and nil frames; for a message its frames, preceded by
// reserve nil slots that the caller may fill (a ROUTER puts the routing id
// there without copying the slice).
//
// An io.EOF is returned only at a clean boundary between messages; EOF inside
// a message is io.ErrUnexpectedEOF.
func (r *Reader) Next(reserve int) (frames [][]byte, cmd []byte, err error) {
	budget := r.Limit
	first := true
	for {
		flags, n, err := r.readHeader(budget)
		if err != nil {
			if !first {
				err = noEOF(err)
			}
			return nil, nil, err
		}
		if flags&FlagCommand != 0 && !first {
			return nil, nil, fmt.Errorf("%w: command inside a multipart message", ErrFrame)
		}
		body, err := r.readBody(n)
		if err != nil {
			return nil, nil, err
		}
		if flags&FlagCommand != 0 {
			return nil, body, nil
		}
		if first {
			frames = make([][]byte, reserve, reserve+1+int(flags&FlagMore))
			first = false
		}
		frames = append(frames, body)
		budget -= n + FrameOverhead
		if flags&FlagMore == 0 {
			return frames, nil, nil
		}
	}
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: used once part of a frame or
// message has been read.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
