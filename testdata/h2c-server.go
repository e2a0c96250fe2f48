// h2c-server: an HTTP/2 cleartext server for the fixtures and replay tests, from Go's own
// golang.org/x/net/http2/h2c (Debian: golang-go, golang-golang-x-net-dev). It takes prior-knowledge h2c
// and HTTP/1.1 "Upgrade: h2c", serves files from -root, and prints one line per request, flushed:
// "request PROTO METHOD PATH x-tb=VALUE". -max-frame and -window set other SETTINGS than the defaults.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o h2c-server h2c-server.go
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"sync"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address to listen on")
	root := flag.String("root", ".", "directory of the files served")
	maxFrame := flag.Uint("max-frame", 0, "SETTINGS_MAX_FRAME_SIZE the server reads (0: default 16384)")
	window := flag.Int("window", 0, "the server's stream receive window (0: default)")
	table := flag.Uint("header-table", 0, "SETTINGS_HEADER_TABLE_SIZE the server decodes with (0: default 4096)")
	flag.Parse()
	var mu sync.Mutex
	files := http.FileServer(http.Dir(*root))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fmt.Fprintf(os.Stdout, "request %s %s %s x-tb=%s\n", r.Proto, r.Method, r.URL.Path, r.Header.Get("X-Tb"))
		mu.Unlock()
		files.ServeHTTP(w, r)
	})
	h2s := &http2.Server{MaxReadFrameSize: uint32(*maxFrame), MaxUploadBufferPerStream: int32(*window),
		MaxDecoderHeaderTableSize: uint32(*table)}
	srv := &http.Server{Addr: *addr, Handler: h2c.NewHandler(handler, h2s)}
	fmt.Fprintf(os.Stdout, "listening %s\n", *addr)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
