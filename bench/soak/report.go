package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/bench/internal/stats"
)

// report writes what the run measured as a markdown section.
type report struct {
	c                     config
	rec                   *recorder
	samples               []sample
	waits                 []cpuWait
	gcs                   []gcEvent
	loadBefore, loadAfter string
	mix                   [kinds]float64
}

// write writes the section and reports whether every verdict holds.
func (r *report) write(w io.Writer) bool {
	c, rec := r.c, r.rec
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## Soak\n\n")
	p("Written by `OUT=docs/performance.md make soak` ([bench/soak.sh](../bench/soak.sh),\n")
	p("[bench/soak](../bench/soak/main.go)); `make bench` keeps this section as it is.\n\n")
	p("| | |\n|---|---|\n")
	p("| date | %s |\n", rec.start.Add(-c.warmup).UTC().Format(time.RFC3339))
	p("| CPU | %d × %s, %s RAM |\n", runtime.NumCPU(), cpuModel(), memTotal())
	if c.commit != "" {
		p("| commit | %s |\n", c.commit)
	}
	p("| command | `%s` |\n", c.command)
	p("| load average (1, 5, 15 min) | before: %s; after: %s |\n\n", r.loadBefore, r.loadAfter)

	p("One `gatehouse serve --dev` on a fresh SQLite file, on 127.0.0.1, with its defaults but\n")
	p("`--access-ttl %s` and the per-address limits on registrations and refreshes\n", short(c.accessTTL))
	p("raised (every request comes from 127.0.0.1); neither it nor the load generator is pinned\n")
	p("to a CPU. An open loop of %s requests per second, due at fixed times whatever\n", num(c.rate))
	p("the answers before them did, each on a goroutine of its own, over at most %d\n", maxConns)
	p("keep-alive connections; per second:\n")
	p("%s checks (`GET /v1/verify`) with a session cookie and %s with a bearer token,\n", num(r.mix[checkCookie]), num(r.mix[checkBearer]))
	p("%s sign-ins in each mode and as many sign-outs of the oldest login (%d live logins\n", num(r.mix[signInSession]), c.pool)
	p("of each mode, %d users), and %s refreshes. %s of the same load ran first,\n", c.users, num(r.mix[refresh]), short(c.warmup))
	p("unmeasured. A latency runs from when the request was due to when its answer had\n")
	p("been read, so a stall of the generator counts too. \"Quick\" requests are the checks,\n")
	p("refreshes and sign-outs; sign-ins (argon2id, about 45 ms of CPU each) are apart and\n")
	p("left out of the latency verdicts. Access tokens live %s rather than 10 minutes so that\n", short(c.accessTTL))
	p("what the server keeps for a token's lifetime (verified tokens, revocations) reaches\n")
	p("its steady size early in the run; with 10-minute tokens it grows for about 12 minutes.\n\n")

	// Per interval.
	in := func(i int) (time.Duration, time.Duration) {
		return time.Duration(i) * rec.every, time.Duration(i+1) * rec.every
	}
	label := func(i int) string { a, b := in(i); return clock(a) + "–" + clock(b) }
	samplesIn := func(i int) []sample {
		a, b := in(i)
		var out []sample
		for _, s := range r.samples {
			if s.at > a && s.at <= b || i == 0 && s.at == 0 {
				out = append(out, s)
			}
		}
		return out
	}
	p("| interval | requests | failed | quick p50 ms | quick p99 ms | quick max ms | sign-ins | sign-in p50 ms | sign-in max ms | RSS MiB | heap in use MiB | live heap after GC MiB, least | goroutines (connections) |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var quickMax time.Duration
	p99s := make([]time.Duration, len(rec.iv))
	for i, iv := range rec.iv {
		slices.Sort(iv.quick)
		slices.Sort(iv.signIns)
		n := 0
		for _, k := range iv.count {
			n += k
		}
		p99s[i] = stats.Percentile(iv.quick, 0.99)
		quickMax = max(quickMax, stats.Percentile(iv.quick, 1))
		ss := samplesIn(i)
		a, b := in(i)
		live, _ := r.liveHeap(a, b)
		p("| %s | %s | %d | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", label(i), num(float64(n)), iv.failed,
			ms(stats.Percentile(iv.quick, 0.5)), ms(p99s[i]), ms(stats.Percentile(iv.quick, 1)),
			len(iv.signIns), ms(stats.Percentile(iv.signIns, 0.5)), ms(stats.Percentile(iv.signIns, 1)),
			mib(largest(ss, func(s sample) float64 { return s.rss })), mib(largest(ss, func(s sample) float64 { return s.heap })),
			mib(live), goroutines(ss))
	}
	p("\nRSS, heap in use and goroutines are the largest of the interval's samples, taken every %s\n", short(c.sample))
	p("(with the connections open at that sample: the server runs a goroutine for each);\n")
	p("the live heap is the least any of the server's GCs in the interval found (its GC trace, to\n")
	p("the MiB). Each password hash in flight holds a 19 MiB buffer, so the larger figures\n")
	p("measure the sign-ins in flight and the least one what the server keeps.\n\n")

	p("Where a stall could come from, per interval: how late the generator sent a request\n")
	p("after it was due, the generator's own longest GC pause, the server's garbage collections\n")
	p("(from `GODEBUG=gctrace=1`: how many, the longest stop-the-world phase, the longest\n")
	p("concurrent mark), the server's quick requests that took over 50 ms by its own clock\n")
	p("(`gatehouse_http_request_duration_seconds`, the handler's time), and the wait for a\n")
	p("CPU: the share of the time some task on the machine waited for one (`/proc/pressure/cpu`),\n")
	p("and how long the server's threads and the generator's spent on a run queue\n")
	p("(`/proc/PID/task/*/schedstat`), in ms per second.\n\n")
	p("| interval | longest send delay ms | generator's longest GC pause ms | server GCs | server's longest stop-the-world ms | server's longest mark ms | server requests > 50 ms | machine: some task waiting for a CPU | server's run-queue wait ms/s | generator's run-queue wait ms/s |\n")
	p("|---|---|---|---|---|---|---|---|---|---|\n")
	for i, iv := range rec.iv {
		a, b := in(i)
		from, to := rec.start.Add(a), rec.start.Add(b)
		var gen time.Duration
		for _, g := range rec.genGCs {
			if !g.at.Before(from) && g.at.Before(to) {
				gen = max(gen, g.pause)
			}
		}
		var n int
		var stw, mark time.Duration
		for _, g := range r.gcs {
			if !g.at.Before(from) && g.at.Before(to) {
				n++
				stw, mark = max(stw, g.stw1, g.stw2), max(mark, g.mark)
			}
		}
		w := r.waitBetween(from, to)
		p("| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", label(i), ms(iv.maxDelay), ms(gen), n, ms(stw), ms(mark), r.slowServed(a, b),
			w.machineShare(), w.perSecond(w.server), w.perSecond(w.generator))
	}

	// The samples, by third.
	third := func(s sample) int { return min(2, int(3*s.at/c.dur)) }
	var thirds [3][]sample
	for _, s := range r.samples {
		thirds[third(s)] = append(thirds[third(s)], s)
	}
	p("\nThe server's samples (every %s, %d in all) by third of the run, smallest–largest:\n\n", short(c.sample), len(r.samples))
	p("| third | RSS MiB | heap in use MiB | live heap after GC MiB | goroutines | connections | live logins |\n|---|---|---|---|---|---|---|\n")
	for t, ss := range thirds {
		rng := func(f func(sample) float64, fmtf func(float64) string) string {
			if len(ss) == 0 {
				return "–"
			}
			return fmtf(smallest(ss, f)) + "–" + fmtf(largest(ss, f))
		}
		least, most := r.liveHeap(time.Duration(t)*c.dur/3, time.Duration(t+1)*c.dur/3)
		p("| %s | %s | %s | %s | %s | %s | %s |\n", []string{"first", "middle", "last"}[t],
			rng(func(s sample) float64 { return s.rss }, mib), rng(func(s sample) float64 { return s.heap }, mib),
			mib(least)+"–"+mib(most),
			rng(func(s sample) float64 { return s.goroutines }, num), rng(func(s sample) float64 { return s.conns }, num),
			rng(func(s sample) float64 { return s.live }, num))
	}
	p("\n<details><summary>every sample</summary>\n\n| at | RSS MiB | heap in use MiB | goroutines | connections | live logins |\n|---|---|---|---|---|---|\n")
	for _, s := range r.samples {
		p("| %s | %s | %s | %s | %s | %s |\n", clock(s.at), mib(s.rss), mib(s.heap), num(s.goroutines), num(s.conns), num(s.live))
	}
	p("</details>\n\n")

	// The slowest requests, beside the GCs that overlapped them.
	var marking time.Duration
	for _, g := range r.gcs {
		if g.at.After(rec.start) {
			marking += g.stw1 + g.mark + g.stw2
		}
	}
	p("The slowest quick requests (the slowest of its second for each), and any garbage\n")
	p("collection (of the server, from its GC trace, or of the generator) that overlapped\n")
	p("them; the server was collecting for\n")
	p("%.0f%% of the run, so an overlap alone proves little:\n\n", 100*marking.Seconds()/c.dur.Seconds())
	p("| due at | request | latency ms | sent late by ms | overlapping server GC (stop-the-world + mark ms) | overlapping generator GC pause ms | around it: machine waiting for a CPU | server's run-queue wait ms/s |\n")
	p("|---|---|---|---|---|---|---|---|\n")
	for _, s := range rec.slowest {
		from, to := rec.start.Add(s.at), rec.start.Add(s.at+s.latency)
		server, gen := "–", "–"
		for _, g := range r.gcs {
			if begin := g.at.Add(-(g.stw1 + g.mark + g.stw2)); g.at.After(from) && begin.Before(to) {
				server = fmt.Sprintf("%s + %s", ms(g.stw1+g.stw2), ms(g.mark))
			}
		}
		for _, g := range rec.genGCs {
			if g.at.After(from) && g.at.Add(-g.pause).Before(to) {
				gen = ms(g.pause)
			}
		}
		w := r.waitBetween(from, to)
		p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", clock(s.at), kindNames[s.k], ms(s.latency), ms(s.delay), server, gen,
			w.machineShare(), w.perSecond(w.server))
	}

	// The verdicts.
	ok := true
	verdict := func(met bool, format string, args ...any) {
		ok = ok && met
		p("- %s: **%s**\n", fmt.Sprintf(format, args...), map[bool]string{true: "met", false: "not met"}[met])
	}
	p("\nVerdicts:\n\n")
	if len(thirds[1]) == 0 || len(thirds[2]) == 0 {
		verdict(false, "memory levels off: too few samples to tell")
	} else {
		for _, m := range []struct {
			name  string
			f     func(sample) float64
			slack float64
			show  func(float64) string
		}{
			{"RSS", func(s sample) float64 { return s.rss }, 0, func(v float64) string { return mib(v) + " MiB" }},
			{"goroutines beyond one per connection", func(s sample) float64 { return s.goroutines - s.conns }, 10, num},
		} {
			mid, last := median(thirds[1], m.f), median(thirds[2], m.f)
			bound := 1.10*mid + m.slack
			verdict(last <= bound, "memory levels off, %s: median sample of the last third %s, of the middle third %s (bound %s)",
				m.name, m.show(last), m.show(mid), m.show(bound))
		}
		mid, _ := r.liveHeap(c.dur/3, 2*c.dur/3)
		last, _ := r.liveHeap(2*c.dur/3, c.dur)
		bound := 1.10*mid + 1<<20
		verdict(last <= bound, "memory levels off, live heap: least after a GC of the last third %s MiB, of the middle third %s MiB (bound %s MiB)",
			mib(last), mib(mid), mib(bound))
	}
	verdict(rec.failed == 0, "no request failed: %d failed (%d in the warm-up)", rec.failed, rec.warmupFailures)
	first, last := p99s[0], p99s[len(p99s)-1]
	bound := time.Duration(c.drift*float64(first)) + c.driftSlack
	verdict(last <= bound, "p99 does not drift: last interval %s ms, first %s ms (bound %g× + %s ms = %s ms)",
		ms(last), ms(first), c.drift, ms(c.driftSlack), ms(bound))
	verdict(quickMax < c.maxLatency, "no stall: the slowest quick request took %s ms (bound %s ms)", ms(quickMax), ms(c.maxLatency))
	if len(rec.failures) > 0 {
		p("\nThe first failures:\n\n```\n%s\n```\n", strings.Join(rec.failures, "\n"))
	}
	return ok
}

// liveHeap returns the least and the most heap the server's GCs found
// live between a and b (from the start of the measured run).
func (r *report) liveHeap(a, b time.Duration) (least, most float64) {
	least = -1
	for _, g := range r.gcs {
		if at := g.at.Sub(r.rec.start); at >= a && at < b {
			if least < 0 || g.live < least {
				least = g.live
			}
			most = max(most, g.live)
		}
	}
	return max(least, 0), most
}

// slowServed is how many quick requests the server itself took over
// 50 ms for, between a and b (from the running totals sampled nearest).
func (r *report) slowServed(a, b time.Duration) string {
	var from, to *sample
	for i := range r.samples {
		s := &r.samples[i]
		if s.at <= a+time.Second {
			from = s
		}
		if s.at <= b+time.Second {
			to = s
		}
	}
	if from == nil || to == nil {
		return "?"
	}
	return num(to.slowServer - from.slowServer)
}

// wait is the CPU waits over a span of time.
type wait struct {
	span                       time.Duration
	machine, server, generator time.Duration // machine -1: unknown
}

// waitBetween returns the CPU waits over the smallest span between
// samples (a second apart) that holds from to to, cut at the last sample.
func (r *report) waitBetween(from, to time.Time) wait {
	var a, b *cpuWait
	for i := range r.waits {
		w := &r.waits[i]
		if !w.at.After(from) {
			a = w
		}
		if b == nil && !w.at.Before(to) {
			b = w
		}
	}
	if b == nil && len(r.waits) > 0 { // the run's end: up to the last sample
		b = &r.waits[len(r.waits)-1]
	}
	if a == nil || b == nil || !b.at.After(a.at) {
		return wait{}
	}
	m := b.machine - a.machine
	if a.machine < 0 || b.machine < 0 {
		m = -1
	}
	return wait{span: b.at.Sub(a.at), machine: m, server: max(0, b.server-a.server), generator: max(0, b.generator-a.generator)}
}

func (w wait) machineShare() string {
	if w.span == 0 || w.machine < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f%%", 100*w.machine.Seconds()/w.span.Seconds())
}

func (w wait) perSecond(d time.Duration) string {
	if w.span == 0 {
		return "?"
	}
	return ms(time.Duration(float64(d) / w.span.Seconds()))
}

// goroutines is the largest goroutine count of ss, with the connections
// open then.
func goroutines(ss []sample) string {
	var top sample
	for _, s := range ss {
		if s.goroutines > top.goroutines {
			top = s
		}
	}
	return fmt.Sprintf("%s (%s)", num(top.goroutines), num(top.conns))
}

func median(ss []sample, f func(sample) float64) float64 {
	vs := make([]float64, len(ss))
	for i, s := range ss {
		vs[i] = f(s)
	}
	m, _ := stats.Median(vs)
	return m
}

func largest(ss []sample, f func(sample) float64) float64 {
	v := 0.0
	for _, s := range ss {
		v = max(v, f(s))
	}
	return v
}

func smallest(ss []sample, f func(sample) float64) float64 {
	if len(ss) == 0 {
		return 0
	}
	v := f(ss[0])
	for _, s := range ss {
		v = min(v, f(s))
	}
	return v
}

// ms formats a duration in milliseconds, with decimals below 100.
func ms(d time.Duration) string {
	v := float64(d) / 1e6
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func mib(v float64) string { return fmt.Sprintf("%.1f", v/(1<<20)) }

// num formats a count or rate, without decimals when it has none.
func num(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}

// short formats a duration without zero units: 1m, not 1m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// clock formats a time from the start of the run as m:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimLeft(v, " \t:"))
		}
	}
	return "?"
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
			return fmt.Sprintf("%.0f GiB", kb/(1<<20))
		}
	}
	return "?"
}
