"""CephTrace: the 25 cephalometric landmarks of a lateral cephalogram, with the C++ engine.

    from cephtrace import CephTracePredictor
    predictor = CephTracePredictor(model_dir="models/")
    result = predictor.predict("cephalogram.jpg")      # or a NumPy array (uint8/uint16)
    for lm in result.landmarks:
        print(lm.name, lm.x, lm.y, lm.confidence_label, lm.peak)
    result.to_dict()                                     # the `cephtrace predict` JSON

Also analyze() (clinical measurements), evaluate() (MRE/SDR against ground truth) and
download_weights() (the published weights). Everything runs in the compiled _cephtrace
module; this file only names it.
"""

from ._cephtrace import (
    AnalysisReport,
    Error,
    EvaluationReport,
    GroundTruthError,
    ImageError,
    Landmark,
    LimitError,
    ModelError,
    PredictionResult,
    Predictor,
    Refinement,
    __version__,
    analyze,
    default_model_dir,
    download_weights,
    evaluate,
)

# The reference package's name (its README's example runs unchanged).
CephTracePredictor = Predictor

__all__ = [
    "AnalysisReport", "CephTracePredictor", "Error", "EvaluationReport", "GroundTruthError",
    "ImageError", "Landmark", "LimitError", "ModelError", "PredictionResult", "Predictor",
    "Refinement", "__version__", "analyze", "default_model_dir", "download_weights", "evaluate",
]
