package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func testAudit(t *testing.T, s gatehouse.Store) {
	events := []gatehouse.AuditEvent{
		{At: T0, Type: gatehouse.EventLoginFailed, UserID: "user-alice", IP: "192.0.2.1", Detail: "wrong password"},
		{At: T0.Add(time.Second), Type: gatehouse.EventLoginFailed, IP: "192.0.2.2", Detail: "unknown email"},
		{At: T0.Add(2 * time.Second), Type: gatehouse.EventLogout, UserID: "user-bob", IP: "2001:db8::1"},
		// Same time as the one before: order is the order of recording.
		{At: T0.Add(2 * time.Second), Type: gatehouse.EventLoginSucceeded, UserID: "user-alice", IP: "192.0.2.1"},
	}
	for _, ev := range events {
		if err := s.RecordAudit(t.Context(), ev); err != nil {
			t.Fatalf("RecordAudit(%+v) = %v, want nil", ev, err)
		}
	}

	// Every event has an ID, later events larger ones.
	all, err := s.ListAudit(t.Context(), gatehouse.AuditQuery{Limit: 10})
	if err != nil || len(all) != len(events) {
		t.Fatalf("ListAudit = %d events, %v; want %d, nil", len(all), err, len(events))
	}
	id := make([]int64, len(events)) // id[i] is the ID of events[i]
	for i, ev := range all {
		id[len(events)-1-i] = ev.ID
	}
	for i := range id {
		if id[i] < 1 || i > 0 && id[i] <= id[i-1] {
			t.Fatalf("event IDs in order of recording = %v, want positive and increasing", id)
		}
	}

	tests := []struct {
		name string
		q    gatehouse.AuditQuery
		want []gatehouse.AuditEvent
	}{
		{name: "everyone", q: gatehouse.AuditQuery{Limit: 10}, want: []gatehouse.AuditEvent{events[3], events[2], events[1], events[0]}},
		{name: "everyone, limited", q: gatehouse.AuditQuery{Limit: 2}, want: []gatehouse.AuditEvent{events[3], events[2]}},
		{name: "no limit", q: gatehouse.AuditQuery{Limit: 0}, want: nil},
		{name: "one user", q: gatehouse.AuditQuery{UserID: "user-alice", Limit: 10}, want: []gatehouse.AuditEvent{events[3], events[0]}},
		{name: "one user, limited", q: gatehouse.AuditQuery{UserID: "user-alice", Limit: 1}, want: []gatehouse.AuditEvent{events[3]}},
		{name: "a user with none", q: gatehouse.AuditQuery{UserID: "user-carol", Limit: 10}, want: nil},
		{name: "one type", q: gatehouse.AuditQuery{Type: gatehouse.EventLoginFailed, Limit: 10}, want: []gatehouse.AuditEvent{events[1], events[0]}},
		{name: "a type with none", q: gatehouse.AuditQuery{Type: gatehouse.EventKeysRotated, Limit: 10}, want: nil},
		{name: "one user and type", q: gatehouse.AuditQuery{UserID: "user-alice", Type: gatehouse.EventLoginFailed, Limit: 10}, want: []gatehouse.AuditEvent{events[0]}},
		{name: "before", q: gatehouse.AuditQuery{Before: id[2], Limit: 10}, want: []gatehouse.AuditEvent{events[1], events[0]}},
		{name: "before, limited", q: gatehouse.AuditQuery{Before: id[3], Limit: 2}, want: []gatehouse.AuditEvent{events[2], events[1]}},
		{name: "before the first", q: gatehouse.AuditQuery{Before: id[0], Limit: 10}, want: nil},
		{name: "before, one user", q: gatehouse.AuditQuery{UserID: "user-alice", Before: id[3], Limit: 10}, want: []gatehouse.AuditEvent{events[0]}},
		{name: "before, one type", q: gatehouse.AuditQuery{Type: gatehouse.EventLoginFailed, Before: id[1], Limit: 10}, want: []gatehouse.AuditEvent{events[0]}},
		{name: "before, past the newest", q: gatehouse.AuditQuery{Before: id[3] + 1000, Limit: 1}, want: []gatehouse.AuditEvent{events[3]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListAudit(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("ListAudit = %v, want nil", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ListAudit(%+v) = %+v, want %+v", tt.q, got, tt.want)
			}
			for i := range got {
				checkEvent(t, fmt.Sprintf("ListAudit[%d]", i), got[i], tt.want[i])
			}
		})
	}

	// Paging through one type, two at a time, with the last ID of each
	// page as the next page's Before, visits each event once.
	for i := range 3 {
		ev := Event(gatehouse.EventLoginFailed, "user-dave")
		ev.Detail = fmt.Sprint("attempt ", i)
		if err := s.RecordAudit(t.Context(), ev); err != nil {
			t.Fatalf("RecordAudit = %v, want nil", err)
		}
	}
	var pages [][]string
	for q := (gatehouse.AuditQuery{Type: gatehouse.EventLoginFailed, Limit: 2}); ; {
		page, err := s.ListAudit(t.Context(), q)
		if err != nil {
			t.Fatalf("ListAudit(%+v) = %v, want nil", q, err)
		}
		if len(page) == 0 {
			break
		}
		var details []string
		for _, ev := range page {
			details = append(details, ev.Detail)
		}
		pages = append(pages, details)
		q.Before = page[len(page)-1].ID
	}
	if got, want := fmt.Sprintf("%q", pages), `[["attempt 2" "attempt 1"] ["attempt 0" "unknown email"] ["wrong password"]]`; got != want {
		t.Errorf("pages of login.failed = %s, want %s", got, want)
	}
}
