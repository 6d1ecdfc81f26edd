// slowfs: a FUSE passthrough ("loopback") of a directory that waits a fixed time before answering
// each read request, and optionally each open and each lookup: a local disk made to answer like a
// network volume, for the copy bench (scripts/bench/disks.ts). The wait is per request and requests
// run concurrently, so it models latency, not bandwidth: one reader with one request in flight gets
// (request size / delay), eight readers get eight times that.
//
//	slowfs -backing DIR -mount DIR [-read-delay 1ms] [-open-delay 1ms] [-lookup-delay 0]
//	       [-max-background 64] [-cache-timeout 1s] [-cache-dirs] [-pid-file F] [-ro]
//
// It mounts with mount(2) itself (root: no fusermount needed), allow_other and default_permissions
// (the kernel checks modes as on the backing filesystem, so pods and node tools see the same
// permissions), and serves until the mount point is unmounted (`umount DIR`) or it gets SIGTERM /
// SIGINT (then it unmounts itself). On exit it prints the requests it served to stderr.
// Kernel passthrough (FUSE_PASSTHROUGH, which would let reads bypass the daemon and its delay) is
// never offered. Files are opened with FOPEN_KEEP_CACHE: the page cache survives an open, as on a
// local filesystem (the backing directory must not change behind the mount's back).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var (
	readDelay, openDelay, lookupDelay time.Duration
	cacheDirs                         bool
	reads, readBytes, opens, lookups  atomic.Int64
)

// node is go-fuse's loopback node with a wait before Open and Lookup.
type node struct {
	fs.LoopbackNode
}

var _ = (fs.NodeOpener)((*node)(nil))
var _ = (fs.NodeLookuper)((*node)(nil))
var _ = (fs.NodeOpendirHandler)((*node)(nil))

// OpendirHandle: with -cache-dirs, a directory's listing stays in the kernel's cache
// (FOPEN_CACHE_DIR) until the directory changes, as a block volume's filesystem keeps its directory
// blocks in memory; without, every listing asks the daemon again.
func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fuseFlags, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if errno == 0 && cacheDirs {
		fuseFlags |= fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE
	}
	return fh, fuseFlags, errno
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	opens.Add(1)
	wait(openDelay)
	fh, fuseFlags, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return fh, fuseFlags, errno
	}
	// FOPEN_KEEP_CACHE: without it the kernel drops a file's cached pages at every open, so data
	// one process read ahead would be read again by the next one to open the file; a local or
	// block-backed filesystem keeps them (and NFS does while the file is unchanged).
	fuseFlags |= fuse.FOPEN_KEEP_CACHE
	if lf, ok := fh.(*fs.LoopbackFile); ok {
		return &file{LoopbackFile: lf}, fuseFlags, 0
	}
	return fh, fuseFlags, 0
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	lookups.Add(1)
	wait(lookupDelay)
	return n.LoopbackNode.Lookup(ctx, name, out)
}

// file is go-fuse's loopback file with a wait before each read request.
type file struct {
	*fs.LoopbackFile
}

var _ = (fs.FileReader)((*file)(nil))
var _ = (fs.FilePassthroughFder)((*file)(nil))

func (f *file) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	reads.Add(1)
	readBytes.Add(int64(len(buf)))
	wait(readDelay)
	return f.LoopbackFile.Read(ctx, buf, off)
}

// PassthroughFd: never, so every read comes to Read (and its wait).
func (f *file) PassthroughFd() (int, bool) { return -1, false }

func wait(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
	}
}

func main() {
	backing := flag.String("backing", "", "directory whose contents are served (required)")
	mountPoint := flag.String("mount", "", "existing directory to mount on (required)")
	flag.DurationVar(&readDelay, "read-delay", time.Millisecond, "wait before answering each read request")
	flag.DurationVar(&openDelay, "open-delay", 0, "wait before answering each open")
	flag.DurationVar(&lookupDelay, "lookup-delay", 0, "wait before answering each lookup (a name not in the kernel's cache)")
	maxBackground := flag.Int("max-background", 64, "asynchronous requests (readahead) the kernel may have in flight")
	cacheTimeout := flag.Duration("cache-timeout", time.Second, "how long the kernel may cache entries and attributes")
	flag.BoolVar(&cacheDirs, "cache-dirs", false, "let the kernel keep directory listings (until a directory changes)")
	pidFile := flag.String("pid-file", "", "write the process id here once mounted")
	readOnly := flag.Bool("ro", false, "mount read-only")
	flag.Parse()
	if *backing == "" || *mountPoint == "" {
		flag.Usage()
		os.Exit(2)
	}

	loop := &fs.LoopbackRoot{Path: *backing}
	var st syscall.Stat_t
	if err := syscall.Stat(*backing, &st); err != nil {
		log.Fatalf("slowfs: %s: %v", *backing, err)
	}
	loop.Dev = uint64(st.Dev)
	loop.NewNode = func(r *fs.LoopbackRoot, _ *fs.Inode, _ string, _ *syscall.Stat_t) fs.InodeEmbedder {
		return &node{fs.LoopbackNode{RootData: r}}
	}
	root := loop.NewNode(loop, nil, "", &st)
	loop.RootNode = root

	timeout := *cacheTimeout
	opts := &fs.Options{
		EntryTimeout: &timeout,
		AttrTimeout:  &timeout,
		MountOptions: fuse.MountOptions{
			AllowOther:        true,
			DirectMountStrict: true,
			FsName:            *backing,
			Name:              "slowfs",
			MaxBackground:     *maxBackground,
			Options:           []string{"default_permissions"},
		},
	}
	if *readOnly {
		opts.MountOptions.Options = append(opts.MountOptions.Options, "ro")
	}
	server, err := fs.Mount(*mountPoint, root, opts)
	if err != nil {
		log.Fatalf("slowfs: mount %s on %s: %v", *backing, *mountPoint, err)
	}
	if *pidFile != "" {
		if err := os.WriteFile(*pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			_ = server.Unmount()
			log.Fatalf("slowfs: %v", err)
		}
	}
	fmt.Fprintf(os.Stderr, "slowfs: %s on %s, read delay %s, open delay %s, lookup delay %s\n",
		*backing, *mountPoint, readDelay, openDelay, lookupDelay)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "slowfs: %v: unmounting %s\n", s, *mountPoint)
		if err := server.Unmount(); err != nil {
			fmt.Fprintf(os.Stderr, "slowfs: unmount: %v\n", err)
		}
	}()
	server.Wait()
	fmt.Fprintf(os.Stderr, "slowfs: unmounted; served %d reads (%d bytes asked), %d opens, %d lookups\n",
		reads.Load(), readBytes.Load(), opens.Load(), lookups.Load())
}
