"""Figures drawn from stored results, one module per chapter on a shared base.

``figures.learning_curves(result)`` and the like draw one figure; ``FIGURES`` names every figure
the book shows, so that ``coursekit figures`` exports them all for slides.
"""
from __future__ import annotations

# isort: off
from . import intro, classic, pretrained, transfer, fewshot, vit, detection, finegrained, ages, diagrams  # noqa: F401  (registered in book order)
# isort: on
from .ages import age_gradcam, data_spread, errors_by_group, predicted_against_true, worst_errors
from .base import (
    FIGURES,
    MissingResult,
    NamedFigure,
    add_footer,
    confusion_matrices,
    confusion_matrix,
    draw,
    examples,
    export,
    image_rows,
    learning_curves,
    register,
)
from .classic import architecture, compare_learning_curves, degradation, ilsvrc_table, ilsvrc_top5, ilsvrc_winners
from .detection import (
    detections,
    detector_curves,
    detector_results,
    faster_rcnn_pipeline,
    iou_and_nms,
    lenet_mistakes,
    photo_detections,
    scene_gallery,
)
from .fewshot import ablation_bars, augmentation_gallery, shots_curves
from .finegrained import (
    cars_methods,
    confusable_classes,
    make_accuracy,
    position_interpolation,
    resolution_cost,
    where_it_looks,
)
from .pretrained import model_zoo, top5_predictions, zoo_table
from .transfer import transfer_comparison
from .vit import attention_geometry, attention_maps, data_efficiency, lr_range_tests, patches

__all__ = ["FIGURES", "MissingResult", "NamedFigure", "ablation_bars", "add_footer", "architecture", "attention_geometry",
           "age_gradcam", "attention_maps", "augmentation_gallery", "data_spread", "errors_by_group", "predicted_against_true",
           "worst_errors", "cars_methods", "compare_learning_curves", "confusable_classes", "confusion_matrices",
           "confusion_matrix", "data_efficiency", "degradation", "detections", "detector_curves", "detector_results", "draw", "examples", "export", "ilsvrc_table",
           "ilsvrc_top5", "ilsvrc_winners", "image_rows", "iou_and_nms", "faster_rcnn_pipeline", "learning_curves", "lenet_mistakes", "lr_range_tests", "make_accuracy", "model_zoo",
           "patches", "photo_detections", "position_interpolation", "register", "resolution_cost", "scene_gallery", "shots_curves", "top5_predictions", "transfer_comparison",
           "where_it_looks", "zoo_table"]
