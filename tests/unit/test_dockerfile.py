"""A Dockerfile's EXPOSE lines, resolved as a build would (simulator/loaders/dockerfile.py)."""

from __future__ import annotations

import textwrap

from simulator.loaders.dockerfile import MAX_RANGE, exposed_ports
from simulator.model import ListenerOrigin


def ports(text: str, **kw) -> list[str]:
    return [f"{lst.port}/{lst.protocol.value}" for lst in exposed_ports(textwrap.dedent(text), **kw).listeners]


def test_the_forms_of_expose():
    assert ports("FROM x\nEXPOSE 80 443/tcp 53/udp 8000-8002 9/SCTP\n") == [
        "9/sctp", "53/udp", "80/tcp", "443/tcp", "8000/tcp", "8001/tcp", "8002/tcp"]
    found = exposed_ports("FROM x\nEXPOSE 80\n")
    assert found.listeners[0].origin is ListenerOrigin.DOCKERFILE and found.lines == (2,)


def test_keywords_are_case_insensitive_and_comments_ignored():
    assert ports("from x\n# EXPOSE 1\nexpose 81\n") == ["81/tcp"]


def test_arg_default_build_arg_and_env():
    text = """\
        FROM x
        ARG PORT=8000
        ARG OTHER
        ENV ADMIN=1${PORT}
        EXPOSE $PORT ${ADMIN}/udp ${MISSING:-7000} ${OTHER:+1}
        """
    assert ports(text) == ["7000/tcp", "8000/tcp", "18000/udp"]
    assert ports(text, build_args={"PORT": "9000", "OTHER": "x"}) == ["1/tcp", "7000/tcp", "9000/tcp", "19000/udp"]
    assert ports(text, build_args={"PORT": "70000"}) == ["7000/tcp"]  # not a port: a gap (below)
    assert any("70000" in gap for gap in exposed_ports(textwrap.dedent(text), build_args={"PORT": "70000"}).gaps)


def test_env_wins_over_arg_of_the_same_name():
    assert ports("FROM x\nARG P=1\nENV P=2\nEXPOSE $P\n") == ["2/tcp"]
    assert ports("FROM x\nENV P 3\nEXPOSE ${P}\n") == ["3/tcp"]  # the legacy "ENV key value" form


def test_a_variable_without_value_is_a_gap_naming_the_line():
    found = exposed_ports("FROM x\nARG PORT\nEXPOSE $PORT 80\n", "backend/Dockerfile")
    assert [lst.port for lst in found.listeners] == [80]
    assert found.gaps == ("backend/Dockerfile:3: EXPOSE $PORT: PORT is declared without a value; "
                          "pass it as a build argument (compose build.args)",)


def test_a_build_arg_fills_an_arg_without_default():
    assert ports("FROM x\nARG PORT\nEXPOSE $PORT\n", build_args={"PORT": "5000"}) == ["5000/tcp"]


def test_target_stage_and_inheritance_from_earlier_stages():
    text = """\
        FROM node:20 AS base
        ENV PORT=3000
        EXPOSE 9229
        FROM base AS development
        EXPOSE $PORT
        FROM base AS builder
        RUN build
        FROM nginx:alpine
        EXPOSE 8080
        """
    dev = exposed_ports(textwrap.dedent(text), target="development")
    assert [lst.port for lst in dev.listeners] == [3000, 9229]  # ENV and EXPOSE of the stage it builds on
    assert dev.base_image == "node:20" and dev.stage == "development"
    last = exposed_ports(textwrap.dedent(text))
    assert [lst.port for lst in last.listeners] == [8080] and last.base_image == "nginx:alpine"
    builder = exposed_ports(textwrap.dedent(text), target="Builder")  # stage names are case-insensitive
    assert [lst.port for lst in builder.listeners] == [9229]


def test_a_target_that_is_not_a_stage():
    found = exposed_ports("FROM x AS a\nEXPOSE 1\nFROM y AS b\n", "Dockerfile", target="prod")
    assert found.listeners == ()
    assert found.gaps == ('Dockerfile: no stage is named "prod" (its named stages: a, b)',)


def test_scratch_and_global_args_in_from():
    assert exposed_ports("FROM scratch\nEXPOSE 1\n").base_image is None
    assert exposed_ports("ARG BASE=nginx\nARG TAG=1.25\nFROM ${BASE}:$TAG\n").base_image == "nginx:1.25"
    assert exposed_ports("ARG BASE=nginx\nFROM $BASE\n", build_args={"BASE": "httpd"}).base_image == "httpd"
    unresolved = exposed_ports("ARG BASE\nFROM $BASE\n")
    assert unresolved.base_image is None and "BASE" in unresolved.gaps[0]


def test_here_documents_continuations_and_the_escape_directive():
    text = """\
        FROM x
        RUN <<EOF
        EXPOSE 1
        EOF
        RUN <<-"END" cat
        \tEXPOSE 2
        \tEND
        EXPOSE 80 \\
        # a comment inside the continued line
          81
        """
    assert ports(text) == ["80/tcp", "81/tcp"]
    assert ports("# escape=`\nFROM x\nEXPOSE 90 `\n  91\n") == ["90/tcp", "91/tcp"]


def test_bad_ports_and_huge_ranges_are_gaps_not_errors():
    found = exposed_ports(f"FROM x\nEXPOSE abc 1-{MAX_RANGE + 1} 70000 80/icmp 22\n")
    assert [lst.port for lst in found.listeners] == [22]
    assert len(found.gaps) == 4 and all(gap.startswith("Dockerfile:2: EXPOSE") for gap in found.gaps)


def test_no_from_line():
    found = exposed_ports("EXPOSE 80\n")
    assert found.listeners == () and "no FROM" in found.gaps[0]


def test_a_from_line_naming_a_stage_through_a_global_arg():
    text = """\
        ARG SOURCE=remote
        FROM alpine:3 AS base
        EXPOSE 53 53/udp
        FROM base AS remote-install
        FROM base AS local-install
        EXPOSE 9
        FROM ${SOURCE}-install AS final
        """
    found = exposed_ports(textwrap.dedent(text))
    assert ports(text) == ["53/tcp", "53/udp"] and found.base_image == "alpine:3" and found.stage == "final"
    assert ports(text, build_args={"SOURCE": "local"}) == ["9/tcp", "53/tcp", "53/udp"]
