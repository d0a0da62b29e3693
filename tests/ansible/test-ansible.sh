#!/bin/bash
# SPDX-License-Identifier: MIT
# The Ansible role (contrib/ansible) and README.md's playbook, as CI checks them without a
# host to configure: the playbook extracted from README.md passes ansible-playbook
# --syntax-check with the role, ansible-lint (production profile) passes on both, and the
# role's configuration template renders, from every kind of variable, a drop-in that
# gvtgctl reads as meant.  Running the role on a host is the host tier's (tests/host).
# Skips (77) without ansible-core or ansible-lint (scripts/packages.d/ansible.list).
# Environment: GVTGCTL, README (default: the tree's), SRC (the source tree).
set -euo pipefail

src=${SRC:?SRC: the source tree}
readme=${README:-$src/README.md}
gvtgctl=${GVTGCTL:?GVTGCTL: path to gvtgctl}
for tool in ansible-playbook ansible-lint ansible; do
	command -v "$tool" >/dev/null || { echo "SKIP: no $tool (scripts/packages.d/ansible.list)"; exit 77; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# README.md's playbook: the yaml block of the section "The Ansible role".
awk '/^### The Ansible role/ { s = 1 } s && /^```yaml$/ { y = 1; next } y && /^```$/ { exit } y' \
	"$readme" >"$work/site.yml"
[[ -s $work/site.yml ]] || fail "no yaml block in README.md's section 'The Ansible role'"
mkdir -p "$work/roles"
cp -r "$src/contrib/ansible/roles/gvtg_hook" "$work/roles/"
printf '[gvtg_hosts]\nlocalhost ansible_connection=local\n' >"$work/hosts"
export ANSIBLE_ROLES_PATH=$work/roles ANSIBLE_LOCAL_TEMP=$work/tmp ANSIBLE_NOCOLOR=1 \
	ANSIBLE_HOME=$work/home

(cd "$work" && timeout 120 ansible-playbook -i hosts --syntax-check site.yml) >"$work/syntax.log" 2>&1 ||
	fail "ansible-playbook --syntax-check: $(cat "$work/syntax.log")"
# ansible-lint wants a project: the playbook and the role in one directory under git.
git -C "$work" init -q
(cd "$work" && NO_COLOR=1 timeout 300 ansible-lint --offline --profile production -p site.yml roles/gvtg_hook) \
	>"$work/lint.log" 2>&1 || fail "ansible-lint: $(cat "$work/lint.log")"
lint_summary=$(grep -o 'Passed with .* files' "$work/lint.log" || true)
[[ -n $lint_summary ]] || fail "ansible-lint printed no 'Passed ... files': $(cat "$work/lint.log")"

# The template, from every kind of variable: booleans as yes/no, a UUID in upper case
# lowered, keys sorted, sections left out when empty.
cat >"$work/vars.yml" <<'VARS'
gvtg_hook_defaults: {type: i915-GVTg_V5_4, parent: "0000:00:02.0"}
gvtg_hook_settings: {release: keep, remove_timeout: 2.5}
gvtg_hook_sleep: {}
gvtg_hook_vgpus:
  - {uuid: 4B20D080-1B54-4048-85B3-A6A62D165C01, type: i915-GVTg_V5_8, boot: true}
  - {uuid: 6c5a1f3e-2d4b-4c8e-9f01-3a7b5c9d2e10, parent: "0000:00:02.0", boot: false}
VARS
(cd "$work" && timeout 120 ansible localhost -c local -i localhost, -m ansible.builtin.template \
	-a "src=roles/gvtg_hook/templates/dropin.conf.j2 dest=$work/dropin.conf" -e @vars.yml) \
	>"$work/template.log" 2>&1 || fail "rendering the template: $(cat "$work/template.log")"
want='[defaults]
parent = 0000:00:02.0
type = i915-GVTg_V5_4

[hook]
release = keep
remove_timeout = 2.5

[4b20d080-1b54-4048-85b3-a6a62d165c01]
type = i915-GVTg_V5_8
boot = yes

[6c5a1f3e-2d4b-4c8e-9f01-3a7b5c9d2e10]
parent = 0000:00:02.0
boot = no'
got=$(grep -v '^#' "$work/dropin.conf" 2>/dev/null | sed '/./,$!d')
[[ $got == "$want" ]] || fail "the rendered drop-in differs:
$(diff <(echo "$want") <(echo "$got") || true)"
timeout 20 "$gvtgctl" --config "$work/dropin.conf" config >"$work/config.txt" 2>&1 ||
	fail "gvtgctl config refuses the rendered drop-in: $(cat "$work/config.txt")"
grep -qx "remove_timeout = 2.5  # $work/dropin.conf:[0-9]*" "$work/config.txt" ||
	fail "gvtgctl config does not show the drop-in's remove_timeout: $(cat "$work/config.txt")"

if ((failures)); then
	exit 1
fi
echo "ok: README.md's playbook passes --syntax-check; ansible-lint: $lint_summary; the template renders a valid drop-in"
