"""Helpers of the spreadsheet import tests: running an import command, exporting a resource."""

import io

import pytest
from django.core.management import CommandError, call_command

from funding.imports import SpreadsheetCSV


def command_output(command: str, path, *options) -> str:
    """Run an import command that must succeed; return what it printed."""
    out = io.StringIO()
    call_command(command, str(path), *options, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def command_refusal(command: str, path, *options) -> str:
    """Run an import command on a file that must be refused; return everything it said."""
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(command, str(path), *options, stdout=io.StringIO(), stderr=err)
    return f"{err.getvalue()}\n{raised.value}"


def exported_csv(resource) -> bytes:
    return SpreadsheetCSV().export_data(resource.export()).encode("utf-8")


def exported_xlsx(resource) -> bytes:
    return resource.export(force_native_type=True).export("xlsx")
