package zmtp

import (
	"encoding/binary"
	"errors"
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

// Read buffer sizes: a connection starts with a small buffer (most are
// idle minions) and grows it while the peer streams, i.e. while reads keep
// filling the buffer to the brim.
const (
	minReadBuf = 512
	maxReadBuf = 64 << 10
)

// A Reader reads frames and whole messages from a stream, through its own
// buffer. It is not safe for concurrent use.
type Reader struct {
	src  io.Reader
	buf  []byte
	r, w int // unread data is buf[r:w]
	full bool

	// Limit bounds the size of a message (or command): the sum of its frame
	// bodies plus FrameOverhead per frame. It must be positive.
	Limit int64
}

// NewReader returns a Reader on src with the given message size limit.
func NewReader(src io.Reader, limit int64) *Reader {
	return &Reader{src: src, buf: make([]byte, minReadBuf), Limit: limit}
}

// fill reads more data into the buffer, moving unread bytes to its start
// first. It doubles the buffer (up to maxReadBuf) when the previous read
// filled it: the peer is streaming, and bigger reads mean fewer syscalls.
// When the buffer is empty and the last read did not fill it, a grown
// buffer shrinks back to minReadBuf.
func (r *Reader) fill() error {
	if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	if r.w == 0 && !r.full && len(r.buf) > minReadBuf {
		// Everything read and the peer no longer streaming: give a grown
		// buffer back rather than keep it through a long idle wait (one
		// burst of requests would leave the buffer grown for good).
		r.buf = make([]byte, minReadBuf)
	}
	if r.full && len(r.buf) < maxReadBuf {
		nb := make([]byte, 2*len(r.buf))
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	n, err := r.src.Read(r.buf[r.w:])
	if n < 0 || n > len(r.buf)-r.w {
		return errors.New("zmtp: invalid read count")
	}
	r.full = r.w+n == len(r.buf)
	r.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

func (r *Reader) readByte() (byte, error) {
	for r.r == r.w {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	b := r.buf[r.r]
	r.r++
	return b, nil
}

// ReadFull reads exactly len(p) bytes. It returns io.EOF only if nothing
// was read. Large reads bypass the buffer.
func (r *Reader) ReadFull(p []byte) error {
	n := copy(p, r.buf[r.r:r.w])
	r.r += n
	p = p[n:]
	if len(p) == 0 {
		return nil
	}
	if len(p) >= len(r.buf) {
		m, err := io.ReadFull(r.src, p)
		if err == io.EOF && n+m > 0 {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	for len(p) > 0 {
		if err := r.fill(); err != nil {
			if err == io.EOF && n > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		m := copy(p, r.buf[r.r:r.w])
		r.r += m
		n += m
		p = p[m:]
	}
	return nil
}

// Buffered returns how many bytes are read ahead in the buffer.
func (r *Reader) Buffered() int { return r.w - r.r }

// readHeader reads a frame header and checks its flags and its size against
// budget (what is left of the message limit).
func (r *Reader) readHeader(budget int64) (flags byte, n int64, err error) {
	flags, err = r.readByte()
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
		b, err := r.readByte()
		if err != nil {
			return 0, 0, noEOF(err)
		}
		n = int64(b)
	} else {
		var b [8]byte
		if err := r.ReadFull(b[:]); err != nil {
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
		if err := r.ReadFull(b); err != nil {
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
		m := len(b)
		if err := r.ReadFull(b[m:cap(b)]); err != nil {
			return nil, noEOF(err)
		}
		b = b[:cap(b)]
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
