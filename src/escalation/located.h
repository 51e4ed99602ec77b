// Builder errors at the place a definition came from ("file:line:column: message").
#ifndef CSCORE_SRC_ESCALATION_LOCATED_H_
#define CSCORE_SRC_ESCALATION_LOCATED_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "cscore/escalation/organisation.h"

namespace cscore::escalation_internal {

inline absl::Status LocatedError(const SourceLoc& loc, std::string_view message) {
  if (loc.line <= 0) return absl::InvalidArgumentError(absl::StrFormat("%s", message));
  return absl::InvalidArgumentError(
      absl::StrFormat("%s:%d:%d: %s", loc.file, loc.line, loc.column, message));
}

}  // namespace cscore::escalation_internal

#endif  // CSCORE_SRC_ESCALATION_LOCATED_H_
