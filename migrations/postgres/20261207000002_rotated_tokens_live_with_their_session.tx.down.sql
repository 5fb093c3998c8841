CREATE INDEX session_refresh_tokens_rotated_idx ON session_refresh_tokens (rotated_at) WHERE rotated_at IS NOT NULL;
