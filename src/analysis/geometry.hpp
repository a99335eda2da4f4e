// Plane geometry for the analyses, in the profile frame: anterior = +x, superior = +y
// (counter-clockwise positive, as in a textbook tracing facing right).
// Every helper returns NaN for a degenerate input (a zero-length direction), so a
// measurement built on coincident landmarks is detected instead of returning 0.
#pragma once

#include <cmath>
#include <limits>
#include <numbers>
#include <opencv2/core/types.hpp>

namespace cephtrace::analysis_detail {

using Pt = cv::Point2d;

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

inline double degrees(double radians) { return radians * 180.0 / std::numbers::pi; }
inline double cross(Pt a, Pt b) { return a.x * b.y - a.y * b.x; }
inline double length(Pt v) { return std::hypot(v.x, v.y); }

// Unsigned angle between two directions, degrees in [0, 180].
inline double angle_between(Pt u, Pt v) {
  if (length(u) == 0 || length(v) == 0) return kNaN;
  return degrees(std::atan2(std::abs(cross(u, v)), u.dot(v)));
}

// Unsigned angle at `vertex` between the rays to a and b, degrees in [0, 180].
inline double angle_at(Pt a, Pt vertex, Pt b) { return angle_between(a - vertex, b - vertex); }

// Counter-clockwise angle from u to v, degrees in (-180, 180].
inline double signed_angle(Pt u, Pt v) {
  if (length(u) == 0 || length(v) == 0) return kNaN;
  return degrees(std::atan2(cross(u, v), u.dot(v)));
}

// Clockwise angle from u to v: a line that descends anteriorly relative to u is positive.
inline double clockwise_angle(Pt u, Pt v) { return -signed_angle(u, v); }

// Signed distance of p from the line through `top` and `bottom` (top above bottom),
// positive when p is anterior to the line.
inline double distance_anterior(Pt top, Pt bottom, Pt p) {
  const Pt d = bottom - top;
  if (length(d) == 0) return kNaN;
  // Walking down the line (d), anterior (+x) is on the left: the cross product is positive.
  return cross(d, p - top) / length(d);
}

// Where the line through a1, a2 meets the line through b1, b2; NaN coordinates when they are
// parallel or a line is degenerate.
inline Pt intersection(Pt a1, Pt a2, Pt b1, Pt b2) {
  const Pt u = a2 - a1, v = b2 - b1;
  const double den = cross(u, v);
  if (den == 0) return {kNaN, kNaN};
  return a1 + u * (cross(b1 - a1, v) / den);
}

// Signed length of v along the direction u (positive when v points the same way).
inline double along(Pt u, Pt v) {
  if (length(u) == 0) return kNaN;
  return u.dot(v) / length(u);
}

}  // namespace cephtrace::analysis_detail
