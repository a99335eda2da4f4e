#include "cephtrace/landmarks.hpp"

namespace cephtrace {

const std::array<LandmarkInfo, kNumLandmarks>& canonical_landmarks() {
  static const std::array<LandmarkInfo, kNumLandmarks> table{{
      {"S", 6, Tier::High},         {"N", 6, Tier::High},          {"Or", 12, Tier::Medium},
      {"Po", 20, Tier::Low},        {"ANS", 7, Tier::High},        {"PNS", 22, Tier::Low},
      {"A", 12, Tier::Medium},      {"B", 20, Tier::Low},          {"Pog", 10, Tier::Medium},
      {"Gn", 10, Tier::Medium},     {"Me", 7, Tier::High},         {"Go", 12, Tier::Medium},
      {"Ar", 13, Tier::Medium},     {"Co", 18, Tier::Low},         {"U1_tip", 12, Tier::Medium},
      {"U1_root", 18, Tier::Low},   {"L1_tip", 12, Tier::Medium},  {"L1_root", 18, Tier::Low},
      {"UL", 8, Tier::Medium},      {"LL", 8, Tier::Medium},       {"Pm", 12, Tier::Medium},
      {"Ba", 22, Tier::Low},        {"Pog_soft", 10, Tier::Medium}, {"Sn", 8, Tier::Medium},
      {"Prn", 5, Tier::High},
  }};
  return table;
}

const std::array<int, kNumAnchors>& anchor_indices() {
  static const std::array<int, kNumAnchors> idx{lm::S,  lm::N,   lm::Me, lm::ANS,
                                                lm::Go, lm::Pog, lm::Prn};
  return idx;
}

const std::array<int, kNumDerived>& derived_indices() {
  static const std::array<int, kNumDerived> idx{
      lm::Or,      lm::Po,     lm::PNS,     lm::A,  lm::B,  lm::Gn, lm::Ar, lm::Co,       lm::U1_tip,
      lm::U1_root, lm::L1_tip, lm::L1_root, lm::UL, lm::LL, lm::Pm, lm::Ba, lm::Pog_soft, lm::Sn};
  return idx;
}

std::optional<int> canonical_index(std::string_view name) {
  const auto& table = canonical_landmarks();
  for (int i = 0; i < kNumLandmarks; ++i)
    if (table[i].name == name) return i;
  return std::nullopt;
}

std::string_view tier_name(Tier tier) {
  switch (tier) {
    case Tier::High: return "high";
    case Tier::Medium: return "medium";
    case Tier::Low: return "low";
  }
  return "low";
}

}  // namespace cephtrace
