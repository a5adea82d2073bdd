"""Findings of `nn-tilde check`: statuses, the human report and the JSON report."""

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from nn_tilde import contract

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
_ORDER = {SKIP: 0, PASS: 1, WARN: 2, FAIL: 3}
MODEL = "(model)"  # pseudo method name for findings about the whole file


def _finite(value: Any) -> Any:
    """Strict JSON: NaN and infinities become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


@dataclass
class Finding:
    """One verdict: `check` is a stable id (e.g. "chunk"), `message` says why and the fix."""

    status: str
    check: str
    method: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    path: str
    findings: list[Finding] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def add(
        self, status: str, check: str, message: str, method: str = MODEL, **data: Any
    ) -> Finding:
        finding = Finding(status, check, method, message, data)
        self.findings.append(finding)
        return finding

    def add_problem(self, problem: contract.Problem, method: str | None = None) -> Finding:
        """A broken rule of docs/MODEL_FORMAT.md: the checker fails what nn~ refuses and warns
        about the rest, with the rule's id as the check id and nn~'s words as the message."""
        status = FAIL if problem.verdict == contract.REFUSE else WARN
        where = method or problem.method or MODEL
        return self.add(status, problem.rule, problem.message, where, verdict=problem.verdict)

    def refusals(self) -> list[Finding]:
        """Findings of rules that make nn~ refuse the file (the checker's failures)."""
        return [f for f in self.findings if f.status == FAIL]

    def methods(self) -> list[str]:
        seen: list[str] = []
        for f in self.findings:
            if f.method not in seen:
                seen.append(f.method)
        return seen

    def status_of(self, method: str | None = None, strict: bool = False) -> str:
        worst = PASS
        for f in self.findings:
            if method is not None and f.method != method:
                continue
            status = FAIL if (strict and f.status == WARN) else f.status
            if _ORDER[status] > _ORDER[worst]:
                worst = status
        return worst

    def find(self, check: str, method: str | None = None) -> list[Finding]:
        return [
            f for f in self.findings if f.check == check and (method is None or f.method == method)
        ]

    def exit_code(self, strict: bool = False) -> int:
        return 1 if self.status_of(strict=strict) == FAIL else 0

    def to_json(self, strict: bool = False) -> str:
        out = {
            "file": self.path,
            "status": self.status_of(strict=strict),
            "strict": strict,
            "info": self.info,
            "methods": {
                m: {
                    "status": self.status_of(m, strict),
                    "findings": [asdict(f) for f in self.findings if f.method == m],
                }
                for m in self.methods()
            },
        }
        return json.dumps(_finite(out), indent=2, default=str, allow_nan=False)

    def to_text(self, strict: bool = False, verbose: bool = False) -> str:
        lines = [f"nn~ model check: {self.path}"]
        for key in ("torch_file", "torch_host", "methods", "sample_rate", "model_sample_rate"):
            if key in self.info:
                lines.append(f"  {key}: {self.info[key]}")
        latency = self.info.get("latency", {})
        numerics = self.info.get("numerics", {})
        for m in self.methods():
            lines.append(f"[{self.status_of(m, strict).upper()}] {m}")
            if m in latency:
                lat = latency[m]
                declared = "not declared" if lat["declared"] is None else lat["declared"]
                measured = "not measurable" if lat["measured"] is None else lat["measured"]
                window = ""
                if lat.get("first_reaction") is not None:
                    window = f" (reacts {lat['first_reaction']}..{lat['last_reaction']})"
                lines.append(
                    f"    latency (samples): measured {measured}{window}, declared {declared}"
                )
            if m in numerics:
                parts = [f"{sig} {v['peak']:.3g}/{v['dc']:.3g}" for sig, v in numerics[m].items()]
                lines.append(f"    output peak/dc: {', '.join(parts)}")
            for f in self.findings:
                if f.method != m or (f.status in (PASS, SKIP) and not verbose):
                    continue
                lines.append(f"    {f.status:4} {f.check}: {f.message}")
        speed = self.info.get("speed")
        if speed:
            lines.append("speed (ms per call; rtf = compute time / buffer duration):")
            lines.append(
                "    method       buffer threads    p50     p99     max    rtf  late%  cold"
            )
            for row in speed:
                lines.append(
                    f"    {row['method'][:12]:12} {row['buffer']:6} {row['threads']:7} "
                    f"{row['p50_ms']:7.3f} {row['p99_ms']:7.3f} {row['max_ms']:7.3f} "
                    f"{row['rtf']:6.3f} {100 * row['late_share']:5.1f} {row['cold_ms']:7.1f}"
                )
        counts = {s: sum(1 for f in self.findings if f.status == s) for s in (PASS, WARN, FAIL)}
        overall = self.status_of(strict=strict)
        lines.append(
            f"result: {overall.upper()} ({counts[PASS]} passed, {counts[WARN]} warnings, "
            f"{counts[FAIL]} failures{', strict' if strict else ''})"
        )
        return "\n".join(lines)
