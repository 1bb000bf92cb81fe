-- The audit log by type, newest first (GET /v1/admin/audit?type=, the
-- admin pages' filter): without it, a rare type scans the whole log.

-- +goose Up
CREATE INDEX audit_events_type ON audit_events (type, id);
