#!/usr/bin/env bats
load helper

@test "placeholder for soak" {
	skip "being written"
}
