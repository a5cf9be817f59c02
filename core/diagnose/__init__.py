"""Diagnosis: why a run has the accuracy it has (sensitivity of an INT8 run's nodes) and where its time goes
(an operator profile), as worker jobs."""
from core.diagnose.job import ANALYSES, execute_diagnosis
from core.diagnose.profile import ProfileConfig
from core.diagnose.sensitivity import SensitivityConfig, int8_step, keep_in_float

__all__ = ["ANALYSES", "ProfileConfig", "SensitivityConfig", "execute_diagnosis", "int8_step", "keep_in_float"]
