"""Diagnosis: why a run has the accuracy it has (sensitivity of an INT8 run's nodes), as a worker job."""
from core.diagnose.job import execute_diagnosis
from core.diagnose.sensitivity import SensitivityConfig, int8_step

__all__ = ["SensitivityConfig", "execute_diagnosis", "int8_step"]
