// The demo app the local cluster runs for the stacks' services: a stand-in for a real
// service whose behaviour is a property of its image. Everything it does is set by the
// image's environment (scripts/cluster-images.sh writes it from cluster/images.txt):
//
//	DEMO_VERSION       the version it answers on GET /version (the image's tag)
//	DEMO_ADDR          the address it serves on (":3000")
//	DEMO_METRICS_ADDR  the address of GET /metrics (the same server when equal or empty)
//	DEMO_HEALTH        the health endpoints, comma-separated; every other path is app traffic
//	DEMO_FAULT         healthy | errors=<ratio> | latency=<ms> | failing=<path>[,<path>…]
//
// (No name ends in _PORT: Kubernetes sets <SERVICE>_PORT for every Service in the namespace,
// and a Service named "demo" would override DEMO_PORT.)
//
// errors=<ratio> answers that share of every request with a 500, health checks included
// (errors=1 is an image that never passes its health check); latency=<ms> delays every
// app request by that much; failing=<paths> answers 503 on those health endpoints (an app
// that is up but whose database is not: its readiness endpoint passes, the smoke test's
// check of the database fails). Requests are counted in http_requests_total{code,method,path}
// and timed in http_request_duration_seconds, the series the alert rules query.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type fault struct {
	errorRatio float64
	latency    time.Duration
	failing    map[string]bool
}

func parseFault(s string) (fault, error) {
	switch {
	case s == "" || s == "healthy":
		return fault{}, nil
	case strings.HasPrefix(s, "errors="):
		r, err := strconv.ParseFloat(strings.TrimPrefix(s, "errors="), 64)
		if err != nil || r < 0 || r > 1 {
			return fault{}, fmt.Errorf("DEMO_FAULT %q: errors= takes a ratio from 0 to 1", s)
		}
		return fault{errorRatio: r}, nil
	case strings.HasPrefix(s, "failing="):
		f := fault{failing: map[string]bool{}}
		for _, p := range strings.Split(strings.TrimPrefix(s, "failing="), ",") {
			if !strings.HasPrefix(p, "/") {
				return fault{}, fmt.Errorf("DEMO_FAULT %q: failing= takes health endpoints such as /api/health/db", s)
			}
			f.failing[p] = true
		}
		return f, nil
	case strings.HasPrefix(s, "latency="):
		ms, err := strconv.Atoi(strings.TrimPrefix(s, "latency="))
		if err != nil || ms < 0 {
			return fault{}, fmt.Errorf("DEMO_FAULT %q: latency= takes whole milliseconds", s)
		}
		return fault{latency: time.Duration(ms) * time.Millisecond}, nil
	}
	return fault{}, fmt.Errorf("DEMO_FAULT %q: expected healthy, errors=<ratio>, latency=<ms> or failing=<paths>", s)
}

type app struct {
	version  string
	health   map[string]bool
	fault    fault
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// statusRecorder keeps the status code a handler wrote, for the metrics.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	path := "other"
	switch {
	case a.health[r.URL.Path]:
		path = r.URL.Path
	case r.URL.Path == "/version":
		path = "/version"
	}
	a.answer(rec, r)
	code := strconv.Itoa(rec.code)
	a.requests.WithLabelValues(code, r.Method, path).Inc()
	a.duration.WithLabelValues(code, r.Method, path).Observe(time.Since(start).Seconds())
}

func (a *app) answer(w http.ResponseWriter, r *http.Request) {
	// Every answer names the version that gave it, errors included: a load generator counts
	// each version's requests and 5xx by it.
	w.Header().Set("X-App-Version", a.version)
	if a.fault.errorRatio > 0 && rand.Float64() < a.fault.errorRatio {
		http.Error(w, "injected fault of "+a.version, http.StatusInternalServerError)
		return
	}
	if a.fault.failing[r.URL.Path] {
		http.Error(w, "failing: "+r.URL.Path, http.StatusServiceUnavailable)
		return
	}
	if a.health[r.URL.Path] {
		fmt.Fprintln(w, "ok")
		return
	}
	if a.fault.latency > 0 {
		select {
		case <-time.After(a.fault.latency):
		case <-r.Context().Done():
			return
		}
	}
	if r.URL.Path == "/version" {
		fmt.Fprintln(w, a.version)
		return
	}
	if r.URL.Path == "/" {
		fmt.Fprintf(w, "demo app %s\n", a.version)
		return
	}
	http.NotFound(w, r)
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	f, err := parseFault(os.Getenv("DEMO_FAULT"))
	if err != nil {
		return err
	}
	addr := os.Getenv("DEMO_ADDR")
	if addr == "" {
		return errors.New("DEMO_ADDR is not set")
	}
	metricsAddr := os.Getenv("DEMO_METRICS_ADDR")
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a := &app{
		version: os.Getenv("DEMO_VERSION"),
		health:  map[string]bool{},
		fault:   f,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "Requests answered, by status code, method and path.",
		}, []string{"code", "method", "path"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "Time to answer a request.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"code", "method", "path"}),
	}
	reg.MustRegister(a.requests, a.duration)
	for _, p := range strings.Split(os.Getenv("DEMO_HEALTH"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			a.health[p] = true
		}
	}
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})

	mux := http.NewServeMux()
	if metricsAddr == "" || metricsAddr == addr {
		mux.Handle("GET /metrics", metrics)
	}
	mux.Handle("/", a)
	servers := []*http.Server{{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	if metricsAddr != "" && metricsAddr != addr {
		m := http.NewServeMux()
		m.Handle("GET /metrics", metrics)
		servers = append(servers, &http.Server{Addr: metricsAddr, Handler: m, ReadHeaderTimeout: 10 * time.Second})
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	failed := make(chan error, len(servers))
	for _, s := range servers {
		go func() { failed <- s.ListenAndServe() }()
	}
	log.Printf("demo app %s on %s (metrics %s), health %v, fault %q", a.version, addr, metricsAddr, os.Getenv("DEMO_HEALTH"), os.Getenv("DEMO_FAULT"))
	select {
	case err := <-failed:
		return err
	case <-ctx.Done():
	}
	// Kubernetes sends SIGTERM and waits the grace period: finish what is in flight.
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdown)
	}
	return nil
}
