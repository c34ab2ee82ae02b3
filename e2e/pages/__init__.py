"""Page objects of the ILS UI. Selectors and routes come from the target's e2e profile
(pytest_cutover.e2e_profile, overridable in cutover.toml); page objects act and locate, tests
state the claims."""
