"""A bad config loaded from Python raises with exactly the line `cscore validate` prints
for it (file:line:column: message): one loader per file, shared by the CLI and Python."""
import subprocess

import pytest

import cscore

BAD = {
    "scorecards.yaml": "scorecards:\n  - name: h\n    default: true\n    measures:\n"
                       "      - {name: x, metric: m, weight: 1, ramp: {from: 0, to: 1}, colour: red}\n",
    "risk.yaml": "domains:\n  Weather:\n    signals: []\n",
    "rules.yaml": "rules:\n  - name: r\n    when: \"true\"\n    actions:\n      - explode: {}\n",
    "lifecycles/bad.yaml": "name: x\ninitial: nowhere\nstatuses:\n  - {name: new, category: open}\n"
                           "events: [go]\ntransitions:\n  - {event: go, from: new, to: new, who: [owner]}\n",
    "organisation.yaml": "people:\n  - {id: ceo, role: ceo}\n  - {id: a, role: csm, colour: red}\n",
    "escalation.yaml": "policies:\n  - id: p\n    stop_on: never\n    levels:\n"
                       "      - targets: [owner_manager]\n",
}


def _loaders(config, repo_root):
    demo_org = repo_root / "tests" / "python" / "data" / "organisation.yaml"
    out = {}
    if hasattr(cscore, "Scorecard"):
        out["scorecards.yaml"] = cscore.Scorecard.load
    if hasattr(cscore, "RiskScorecard"):
        out["risk.yaml"] = cscore.RiskScorecard.load
    if hasattr(cscore, "RuleSet"):
        out["rules.yaml"] = cscore.RuleSet.load
    if hasattr(cscore, "Lifecycle"):
        out["lifecycles/bad.yaml"] = cscore.Lifecycle.load
    if hasattr(cscore, "Organisation"):
        out["organisation.yaml"] = cscore.Organisation.load
        out["escalation.yaml"] = lambda p: cscore.Escalator.load(
            cscore.Organisation.load(demo_org), p)
    return out


@pytest.mark.skipif(not hasattr(cscore, "validate_config"), reason="engine not built")
def test_python_loaders_raise_what_validate_prints(tmp_path, repo_root, cli_path):
    for name, text in BAD.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    printed = cscore.validate_config(tmp_path)
    if cli_path is not None:
        out = subprocess.run([str(cli_path), "validate", "--config", str(tmp_path)],
                             capture_output=True, text=True)
        assert out.returncode == 1
        assert out.stdout.splitlines() == printed
    by_file = {}
    for line in printed:
        for name in BAD:
            if line.startswith(f"{tmp_path / name}:"):
                by_file.setdefault(name, line)
    assert set(by_file) == set(BAD), printed
    loaders = _loaders(tmp_path, repo_root)
    assert loaders
    for name, load in loaders.items():
        with pytest.raises(cscore.Error) as err:
            load(tmp_path / name)
        assert str(err.value) == by_file[name], name
