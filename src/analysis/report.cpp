// Presenting an analysis: JSON, a text table, and the reference lines for an overlay.
#include <cstdio>
#include <sstream>

#include "cephtrace/analysis.hpp"

namespace cephtrace {
namespace {

nlohmann::ordered_json optional_number(const std::optional<double>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json();
}

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Pads with spaces to `width` display columns (the names contain multi-byte "–" and "ö").
std::string pad(const std::string& s, size_t width) {
  size_t columns = 0;
  for (unsigned char c : s) columns += (c & 0xC0) != 0x80;  // count UTF-8 lead bytes
  return columns >= width ? s + " " : s + std::string(width - columns, ' ');
}

}  // namespace

nlohmann::ordered_json to_json(const AnalysisReport& report) {
  nlohmann::ordered_json measurements = nlohmann::ordered_json::object();
  for (const auto& m : report.measurements) {
    measurements[m.key] = {{"value", m.value},
                           {"unit", m.unit},
                           {"norm_mean", optional_number(m.norm_mean)},
                           {"norm_sd", optional_number(m.norm_sd)},
                           {"deviation_sd", optional_number(m.deviation_sd)},
                           {"interpretation", m.interpretation},
                           {"norm_source", m.norm_source},
                           {"analysis", m.analysis},
                           {"description", m.description}};
  }
  nlohmann::ordered_json not_available = nlohmann::ordered_json::object();
  for (const auto& u : report.not_available)
    not_available[u.key] = {{"analysis", u.analysis}, {"reason", u.reason}};
  return {{"measurements", measurements},
          {"not_available", not_available},
          {"warnings", report.warnings},
          {"length_unit", report.length_unit},
          {"mm_per_pixel", optional_number(report.mm_per_pixel)},
          {"facing", report.facing ? nlohmann::ordered_json(orientation_name(*report.facing))
                                   : nlohmann::ordered_json()}};
}

std::string format_table(const AnalysisReport& report) {
  std::ostringstream out;
  std::string section;
  for (const auto& m : report.measurements) {
    if (m.analysis != section) {
      section = m.analysis;
      out << (out.tellp() > 0 ? "\n" : "") << section << "\n"
          << "  " << pad("Measure", 30) << pad("Value", 22) << pad("Norm", 16)
          << pad("Dev (SD)", 10) << "Interpretation\n";
    }
    const std::string norm =
        m.norm_mean ? format("%.1f", *m.norm_mean) + " ± " + format("%.1f", *m.norm_sd) : "—";
    const std::string dev = m.deviation_sd ? format("%+.1f", *m.deviation_sd) : "—";
    out << "  " << pad(m.key, 30) << pad(format("%.1f", m.value) + " " + m.unit, 22)
        << pad(norm, 16) << pad(dev, 10) << m.interpretation << "\n";
  }
  if (!report.not_available.empty()) {
    out << "\nNot available\n";
    for (const auto& u : report.not_available) out << "  " << pad(u.key, 30) << u.reason << "\n";
  }
  for (const auto& w : report.warnings) out << "\nwarning: " << w;
  if (!report.warnings.empty()) out << "\n";
  return out.str();
}

std::vector<AnalysisLine> analysis_lines(const OriginalImageLandmarks& set) {
  struct Spec {
    const char* name;
    int from, to;
  };
  static constexpr Spec specs[] = {{"S-N", lm::S, lm::N},  {"N-A", lm::N, lm::A},
                                   {"N-B", lm::N, lm::B},  {"FH", lm::Po, lm::Or},
                                   {"MP", lm::Go, lm::Me}, {"E-line", lm::Prn, lm::Pog_soft}};
  std::vector<AnalysisLine> lines;
  for (const auto& s : specs)
    if (set.points[s.from] && set.points[s.to])
      lines.push_back({s.name, *set.points[s.from], *set.points[s.to]});
  // The occlusal plane: molar contact midpoint to incisor overlap midpoint (analyze.cpp).
  const auto& p = set.points;
  if (p[lm::U6] && p[lm::L6] && p[lm::U1_tip] && p[lm::L1_tip])
    lines.push_back({"OP", (*p[lm::U6] + *p[lm::L6]) * 0.5, (*p[lm::U1_tip] + *p[lm::L1_tip]) * 0.5});
  return lines;
}

}  // namespace cephtrace
