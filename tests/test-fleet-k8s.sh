#!/usr/bin/env bash
# replicate/fleet/replicate-k8s.yaml: Kubernetes cannot run here, so
# the manifest is checked, not run: valid YAML (Debian's python3-yaml),
# a CronJob (Forbid: one run at a time) of an Indexed Job whose pods
# each replicate one VM (--vm-index $(JOB_COMPLETION_INDEX)) with the
# state in the storage account and credentials from a Secret, never
# the environment; and every azprep option in it is one azprep knows.
source tests/lib/functions.sh
requires /usr/bin/python3
/usr/bin/python3 -c 'import yaml' 2>/dev/null ||
  skip "python3-yaml is not installed"
M=replicate/fleet/replicate-k8s.yaml

/usr/bin/python3 - "$M" > "$T/args" <<'EOT' || fail "$M: see above"
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
def need(cond, what):
    if not cond:
        sys.exit("FAIL: %s" % what)
need(len(docs) == 1, "one document")
cj = docs[0]
need(cj["apiVersion"] == "batch/v1" and cj["kind"] == "CronJob", "a batch/v1 CronJob")
need(cj["spec"]["concurrencyPolicy"] == "Forbid", "concurrencyPolicy Forbid")
job = cj["spec"]["jobTemplate"]["spec"]
need(job["completionMode"] == "Indexed", "an Indexed Job")
need(isinstance(job["completions"], int) and job["completions"] >= 1, "completions")
need(1 <= job["parallelism"] <= job["completions"], "parallelism")
pod = job["template"]["spec"]
need(pod["restartPolicy"] in ("Never", "OnFailure"), "restartPolicy")
need(pod["terminationGracePeriodSeconds"] >= 30, "a grace period to stop cleanly")
(c,) = pod["containers"]
cmd = c["command"]
need(cmd[:2] == ["azprep", "replicate"], "azprep replicate")
need(cmd[cmd.index("--vm-index") + 1] == "$(JOB_COMPLETION_INDEX)",
     "--vm-index $(JOB_COMPLETION_INDEX)")
need("--state-container" in cmd, "the state in the storage account")
need(not any(e["name"].startswith("AZURE_STORAGE") for e in c.get("env", [])),
     "no storage secret in the environment")
creds = cmd[cmd.index("--credentials") + 1]
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
vols = {v["name"]: v for v in pod["volumes"]}
sec = [n for n, v in vols.items() if "secret" in v]
need(len(sec) == 1 and creds.startswith(mounts[sec[0]] + "/"),
     "--credentials from the Secret's volume")
fleet = cmd[cmd.index("--vms") + 1]
cm = [n for n, v in vols.items() if "configMap" in v]
need(len(cm) == 1 and fleet.startswith(mounts[cm[0]] + "/"),
     "--vms from the ConfigMap's volume")
print("\n".join(a for a in cmd[2:] if a.startswith("--")))
EOT
"$AZPREP" replicate --help > "$T/help"
while read -r opt; do
  grep -q -- "^ *$opt\b" "$T/help" || fail "$M: azprep replicate has no $opt"
done < "$T/args"
[ "$(wc -l < "$T/args")" -ge 6 ] || fail "options not read"
echo "$M: a valid CronJob of an Indexed Job"
