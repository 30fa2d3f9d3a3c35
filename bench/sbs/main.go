// Command sbs holds the helpers of bench/sbs.sh, the side-by-side benchmark of creditwatch
// and blackbox_exporter:
//
//	sbs target -listen 127.0.0.1:18300 -page collectors/testdata/portal-utf8.html -size 56320
//	sbs drive -blackbox 127.0.0.1:9115 -module http_cw -url http://127.0.0.1:18300/ -targets 500 -interval 5s -listen 127.0.0.1:18301
//	sbs config -url http://127.0.0.1:18300/ -targets 500 -interval 5s -storage /tmp/x/ledger.db
//
// target serves one UTF-8 page, padded to size bytes, at every path. drive asks
// blackbox_exporter for one probe per target per interval, the way Prometheus does (one
// GET /probe per target, the targets spread over the interval, kept-alive connections),
// and answers GET /count with the probes done and succeeded so far. config prints a
// creditwatch config probing the same page with the same targets.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sbs target|drive|config [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "target":
		err = target(os.Args[2:])
	case "drive":
		err = drive(os.Args[2:])
	case "config":
		err = config(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sbs:", err)
		os.Exit(1)
	}
}

// page is the fixture padded with news items to size bytes.
func page(fixture string, size int) ([]byte, error) {
	src, err := os.ReadFile(fixture)
	if err != nil {
		return nil, err
	}
	cut := bytes.Index(src, []byte("</body>"))
	if cut < 0 {
		return nil, fmt.Errorf("%s has no </body>", fixture)
	}
	item := []byte("<li>濮阳市发展和改革委员会关于开展信用修复专项培训的通知 2026-11-20</li>\n")
	tail := []byte("</body></html>\n")
	var b bytes.Buffer
	b.Write(src[:cut])
	for b.Len()+len(item)+len(tail) <= size {
		b.Write(item)
	}
	for b.Len()+len(tail) < size {
		b.WriteByte('\n')
	}
	b.Write(tail)
	return b.Bytes(), nil
}

func target(args []string) error {
	fs := flag.NewFlagSet("target", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:18300", "address to serve the page on")
	fixture := fs.String("page", "collectors/testdata/portal-utf8.html", "the page to pad")
	size := fs.Int("size", 55<<10, "bytes of the page served")
	fs.Parse(args)
	body, err := page(*fixture, *size)
	if err != nil {
		return err
	}
	length := strconv.Itoa(len(body))
	return http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", length)
		w.Write(body)
	}))
}

func drive(args []string) error {
	fs := flag.NewFlagSet("drive", flag.ExitOnError)
	bb := fs.String("blackbox", "127.0.0.1:9115", "blackbox_exporter's address")
	module := fs.String("module", "http_cw", "the blackbox module")
	base := fs.String("url", "http://127.0.0.1:18300/", "the page; each target adds ?t=N")
	n := fs.Int("targets", 500, "targets")
	interval := fs.Duration("interval", 5*time.Second, "probe interval of each target")
	listen := fs.String("listen", "127.0.0.1:18301", "address answering GET /count")
	fs.Parse(args)
	var done, ok, failed atomic.Int64
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConns: *n, MaxIdleConnsPerHost: *n, IdleConnTimeout: 5 * time.Minute},
		Timeout:   *interval + 10*time.Second,
	}
	timeout := strconv.FormatFloat(min(interval.Seconds(), 10), 'f', -1, 64)
	for i := range *n {
		q := url.Values{"target": {fmt.Sprintf("%s?t=%d", *base, i)}, "module": {*module}}
		u := "http://" + *bb + "/probe?" + q.Encode()
		go func() {
			time.Sleep(time.Duration(i) * *interval / time.Duration(*n))
			tick := time.NewTicker(*interval)
			for {
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout)
				req.Header.Set("Accept", "text/plain;version=0.0.4")
				resp, err := client.Do(req)
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					done.Add(1)
					if bytes.Contains(body, []byte("\nprobe_success 1\n")) {
						ok.Add(1)
					} else {
						failed.Add(1)
					}
				} else {
					failed.Add(1)
				}
				<-tick.C
			}
		}()
	}
	return http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "%d %d %d\n", done.Load(), ok.Load(), failed.Load())
	}))
}

func config(args []string) error {
	fs := flag.NewFlagSet("config", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:18300/", "the page; each target adds ?t=N")
	n := fs.Int("targets", 500, "targets")
	interval := fs.Duration("interval", 5*time.Second, "probe interval of each target")
	storage := fs.String("storage", "ledger.db", "the ledger's path")
	keepAlive := fs.Bool("keep-alive", false, "probe over kept-alive connections")
	window := fs.String("commit-window", "", "storage.commit_window (default: creditwatch's)")
	fs.Parse(args)
	var b bytes.Buffer
	b.WriteString("portal:\n  targets:\n")
	extra := ""
	if *keepAlive {
		extra = ", keep_alive: true"
	}
	timeout := min(*interval, 10*time.Second)
	for i := range *n {
		fmt.Fprintf(&b, "    - {name: t%05d, url: \"%s?t=%d\", interval: %s, timeout: %s, expect: {status: [200], body_contains: [\"信用\"]}%s}\n",
			i, *base, i, *interval, timeout, extra)
	}
	fmt.Fprintf(&b, "storage:\n  path: %s\n", *storage)
	if *window != "" {
		fmt.Fprintf(&b, "  commit_window: %s\n", *window)
	}
	_, err := os.Stdout.Write(b.Bytes())
	return err
}
