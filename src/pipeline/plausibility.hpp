// Checks of a finished prediction that no single landmark's confidence can make: a model
// whose output is flat or not finite (a damaged or wrong file), and landmarks that cannot
// all hold at once on a human skull (S-N length, anatomical order).
#pragma once

#include <string>
#include <vector>

#include "cephtrace/result.hpp"

namespace cephtrace {

// Why the models' output cannot be trusted (flat heatmaps, NaN or infinite values); empty
// when it looks like a real answer.
std::vector<std::string> model_output_problems(const PredictionResult& result);

// Why the landmarks rated medium or high cannot all be right (a low one already says it is
// unreliable): S-N length outside the human range (when the pixel spacing is known) or far
// outside the image's scale, and S, N, Me, U1_tip out of anatomical order.
std::vector<std::string> anatomy_problems(const PredictionResult& result);

// Applies both (anatomy only when the output looks real): a result with problems is marked
// degraded with the reasons in result.degraded_reasons, and every landmark is rated "low",
// since which of them are wrong is unknown.
void check_plausibility(PredictionResult& result);

}  // namespace cephtrace
