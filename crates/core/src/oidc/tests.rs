//! Real tests against the fixture IdP (added below).
