-- A user's logins in the order their lists show them (newest first), so
-- that listing them reads the index in order instead of sorting the rows;
-- it replaces the index on user_id alone, which it covers.

-- +goose Up
CREATE INDEX logins_user_created ON logins (user_id, created_at, id);
DROP INDEX logins_user_id;
