"""Each command's help, examples and error hints name only options that command has.

Every command is described by its own ``Text`` (``softmaxkit/cli/_args.py``): its summary,
description, examples and the hints its error messages give. These tests hold every command
to it: each ``--option`` its help, epilog or hints name is one of its options, each example
in its epilog is a command line that parses, as that command, and the epilog lists no other
command's examples. Every example that runs on shipped data (``--example``) or on the output
of an earlier example (the top-level help's first, then each command's own, in the order
shown) is run, and must succeed. They also pin the messages of the argument types (one
factory).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from softmaxkit import io as sio
from softmaxkit.cli import COMMANDS, build_parser, main

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


COMMAND_TEXTS = [(name, m.TEXTS[name]) for m in COMMANDS for name in m.NAMES]
NAMES = [name for name, _ in COMMAND_TEXTS]


def parse_example(example: str) -> argparse.Namespace:
    argv = shlex.split(example)
    assert argv[0] == "softmaxkit", example
    if ">" in argv:  # a shell redirection is not the command's
        argv = argv[: argv.index(">")]
    try:
        return build_parser().parse_args(argv[1:])
    except SystemExit:  # pragma: no cover - the failure is the assertion
        pytest.fail(f"the example does not parse: {example}")


def test_every_command_has_its_texts_and_one_module() -> None:
    assert sorted(NAMES) == sorted(subparsers())
    assert len(NAMES) == len(set(NAMES))


@pytest.mark.parametrize(("name", "text"), COMMAND_TEXTS, ids=NAMES)
def test_help_and_hints_name_only_own_options(name: str, text: object) -> None:
    sub = subparsers()[name]
    own = set(sub._option_string_actions)
    # The texts as written (the formatted help wraps lines at hyphens: "--replace-\nzeros").
    texts = [sub.description, sub.epilog, *(a.help for a in sub._actions)]
    texts += text.hints  # type: ignore[attr-defined]
    named = {option for t in texts if t for option in OPTION.findall(t)}
    assert named, name
    assert named <= own, f"{name} names options it does not have: {sorted(named - own)}"


@pytest.mark.parametrize(("name", "text"), COMMAND_TEXTS, ids=NAMES)
def test_examples_parse_as_their_command(name: str, text: object) -> None:
    examples = text.examples  # type: ignore[attr-defined]
    assert examples, f"{name} shows no example"
    for example in examples:
        assert parse_example(example).command == name, example
    epilog = subparsers()[name].epilog or ""
    shown = [line.strip() for line in epilog.splitlines() if line.startswith("  softmaxkit ")]
    assert shown == list(examples)  # its own examples, none of another command's


def test_top_level_examples_parse() -> None:
    epilog = build_parser().epilog or ""
    shown = [line.strip() for line in epilog.splitlines() if line.startswith("  softmaxkit ")]
    assert {shlex.split(e)[1] for e in shown} == set(NAMES)
    for example in shown:
        parse_example(example)


def top_level_examples() -> list[str]:
    epilog = build_parser().epilog or ""
    return [line.strip() for line in epilog.splitlines() if line.startswith("  softmaxkit ")]


def needed_files(args: argparse.Namespace) -> list[str]:
    """The files an example reads (none with --example): its input, a --labels file (a name
    with an extension; otherwise it is a column) and an ilr --basis."""
    if getattr(args, "example", False):
        return []
    files = [args.input]
    labels = getattr(args, "labels", None)
    if labels and "." in labels:
        files.append(labels)
    if getattr(args, "basis", None):
        files.append(args.basis)
    return files


def run_examples(
    examples: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[list[str], list[str]]:
    """Run, in the current directory and in order, each example whose files exist (shipped
    data, or an earlier example's output); ``> FILE`` gets the standard output. Returns the
    examples run and those skipped; a failure is the assertion."""
    ran, skipped = [], []
    for example in examples:
        args = parse_example(example)
        if not all(os.path.exists(f) for f in needed_files(args)):
            skipped.append(example)
            continue
        argv = shlex.split(example)[1:]
        redirect = None
        if ">" in argv:
            redirect, argv = argv[argv.index(">") + 1], argv[: argv.index(">")]
        capsys.readouterr()
        code = main(argv)  # no progress bar: standard error is not a terminal here
        out, err = capsys.readouterr()
        assert code == 0, f"{example}\n{err}"
        assert "Traceback" not in err and "warning:" not in err, f"{example}\n{err}"
        if redirect is not None:
            Path(redirect).write_text(out)
        ran.append(example)
    return ran, skipped


# Examples that need data the package does not ship: compositions of parts (counts of taxa,
# shares), files of another format or layout than the examples make, a dataset of partitions.
NOT_SHIPPED = {
    "softmaxkit clr counts.csv --columns 'taxon_*' -o clr.csv",
    "softmaxkit alr shares.csv --columns a b c d --reference d -o alr.csv",
    "softmaxkit ilr shares.csv --columns a b c d --replace-zeros --delta 1e-4 -o ilr.csv",
}


def test_every_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The top-level help's examples run one after the other, as a user would paste them
    (``inverse`` reads what ``softmax --example -o probs.csv`` wrote); then each command's
    own examples, in the same directory, wherever their files exist."""
    monkeypatch.chdir(tmp_path)
    top = top_level_examples()
    ran, skipped = run_examples(top, capsys)
    assert set(skipped) == NOT_SHIPPED
    own = [e for _, text in COMMAND_TEXTS for e in text.examples]  # type: ignore[attr-defined]
    more, _ = run_examples([e for e in own if e not in top], capsys)
    ran += more
    # The documented pipeline: softmax of the example, then its logits back (centred).
    logits, labels = sio.load_example()
    back = sio.open_reader("logits.csv")
    assert back.names == [*(f"logit_{k}" for k in range(10)), "label"]
    got = np.vstack([b.values for b in back])
    centred = logits - logits.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(got[:, :10], centred, rtol=0, atol=1e-9)
    assert got[:, 10].tolist() == labels.tolist()
    # Every command's --example ran, and the examples that chain on the first ones.
    assert {e for e in own if "--example" in shlex.split(e)} <= set(ran)
    assert "softmaxkit calibrate logits.csv --labels label -o calibrated.csv" in ran


@pytest.mark.parametrize("name", NAMES)
def test_help_exits_zero(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: softmaxkit {name} ")
    assert "examples:\n" in out


# The numeric argument types (all made by `_args.number`) and their messages.
TYPE_ERRORS = [
    (["softmax", "-T", "-1"], "argument --temperature/-T: must be >= 0 (0 = hardmax limit, "
                              "inf = uniform limit), got '-1'"),
    (["softmax", "-T", "nan"], "argument --temperature/-T: must be >= 0 (0 = hardmax limit, "
                               "inf = uniform limit), got 'nan'"),
    (["log-softmax", "-T", "warm"], "argument --temperature/-T: not a number: 'warm'"),
    (["softmax", "--chunk-rows", "0"], "argument --chunk-rows: must be >= 1, got '0'"),
    (["clr", "--chunk-rows", "1.5"], "argument --chunk-rows: not an integer: '1.5'"),
    (["softmax", "--workers", "0"], "argument --workers: must be >= 1, got '0'"),
    (["softmax", "--delimiter", "ab"],
     "argument --delimiter: must be one character (or 'tab'), got 'ab'"),
    (["inverse", "--value", "inf"], "argument --value: must be finite, got 'inf'"),
    (["inverse", "--atol", "nan"], "argument --atol: must be finite, got 'nan'"),
    (["inverse", "--atol", "-1"], "argument --atol: must be >= 0, got '-1'"),
    (["inverse", "--reference", "x"], "argument --reference: not an integer: 'x'"),
    (["calibrate", "--validation-split", "1"],
     "argument --validation-split: must be strictly between 0 and 1, got '1'"),
    (["calibrate", "--n-bins", "0"], "argument --n-bins: must be >= 1, got '0'"),
    (["ilr", "--delta", "0"], "argument --delta: must be a number in (0, 1), got '0'"),
    (["mlogit", "--alpha", "-1"], "argument --alpha: must be a finite number >= 0, got '-1'"),
    (["mlogit", "--tol", "0"], "argument --tol: must be > 0, got '0'"),
    (["mlogit", "--tol", "inf"], "argument --tol: must be a finite number >= 0, got 'inf'"),
    (["mlogit", "--max-iter", "0"], "argument --max-iter: must be >= 1, got '0'"),
    (["mlogit", "--delimiter", "xx"],
     "argument --delimiter: must be one character (or 'tab'), got 'xx'"),
    (["boltzmann", "-T", "1:0:1"], "argument -T/--temperature: a scan START:STOP:STEP needs "
                                   "finite START <= STOP and STEP > 0, got '1:0:1'"),
    (["boltzmann", "-T", "-5"],
     "argument -T/--temperature: temperatures must be >= 0 kelvin, got -5 in '-5'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"), TYPE_ERRORS, ids=[" ".join(argv) for argv, _ in TYPE_ERRORS]
)
def test_argument_type_messages(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.endswith(f"softmaxkit {argv[0]}: error: {message}\n"), err
