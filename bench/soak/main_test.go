package main

import (
	"testing"
	"time"
)

func TestMixer(t *testing.T) {
	g := newGenerator(config{rate: 500, logins: 4, refreshes: 20}, "")
	m := mixer{rates: g.mix}
	var got [kinds]int
	longest := map[kind]int{} // the longest run without the kind, in requests
	last := map[kind]int{}
	for i := range 1000 { // two seconds
		k := m.next()
		got[k]++
		longest[k] = max(longest[k], i-last[k])
		last[k] = i
	}
	want := [kinds]int{checkCookie: 472, checkBearer: 472, signInSession: 4, signInToken: 4, refresh: 40, signOutSession: 4, signOutToken: 4}
	if got != want {
		t.Errorf("kinds over 2 s = %v, want %v", got, want)
	}
	if longest[refresh] > 30 { // 20 a second: one every 25 requests
		t.Errorf("refreshes up to %d requests apart, want them spread evenly", longest[refresh])
	}
}

func TestGCLine(t *testing.T) {
	m := gcLine.FindStringSubmatch("gc 254 @50.147s 1%: 93+17+0.010 ms clock, 186+15/4.5/0+0.021 ms cpu, 40->41->40 MB, 42 MB goal, 0 MB stacks, 0 MB globals, 4 P")
	want := []string{"50.147", "93", "17", "0.010", "15", "40"}
	if m == nil || len(m) != len(want)+1 {
		t.Fatalf("gcLine does not match: %q", m)
	}
	for i, w := range want {
		if m[i+1] != w {
			t.Errorf("group %d = %q, want %q", i+1, m[i+1], w)
		}
	}
}

func TestNoteSlow(t *testing.T) {
	r := &recorder{}
	// One stall at 6 s slows a burst of requests; other seconds one each.
	for i := range 20 {
		r.noteSlow(slow{at: 6*time.Second + time.Duration(i)*2*time.Millisecond, latency: time.Duration(200-i) * time.Millisecond})
	}
	for s := range 15 {
		r.noteSlow(slow{at: time.Duration(10+s) * time.Second, latency: time.Duration(10+s) * time.Millisecond})
	}
	if len(r.slowest) != keepSlowest {
		t.Fatalf("kept %d, want %d", len(r.slowest), keepSlowest)
	}
	if r.slowest[0].latency != 200*time.Millisecond || r.slowest[1].latency != 24*time.Millisecond {
		t.Errorf("slowest = %v, want the stall's worst (200ms), then one per second from 24ms down", r.slowest)
	}
}
