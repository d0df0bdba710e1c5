"""Diagnostics for the technician: `hamletbox doctor`, the technician's page and support bundles
all run the same checks (run.py), each a small function in checks.py, thermal.py or upstream.py.
"""

from __future__ import annotations

from appliance.doctor.checks import Check
from appliance.doctor.command import run_command
from appliance.doctor.run import Probes, run_checks

__all__ = ["Check", "Probes", "run_checks", "run_command"]
