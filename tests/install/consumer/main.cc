// A program outside the cscore tree, built against an installed cscore.
#include <iostream>

#include "cscore/frame/csv.h"

int main() {
  absl::StatusOr<cscore::AccountFrame> frame =
      cscore::ParseCsv("account_id,logins\nacme,12\nglobex,3\n", "inline.csv",
                       {.id_column = "account_id", .types = {}});
  if (!frame.ok() || frame->num_rows() != 2) {
    std::cerr << "frame failed: " << frame.status() << "\n";
    return 1;
  }
  absl::StatusOr<cscore::AccountFrame> bad = cscore::ParseCsv("a\n", "empty.csv");
  if (bad.ok()) return 1;
  std::cout << "consumer ok: " << frame->num_rows() << " accounts; " << bad.status().message()
            << "\n";
  return 0;
}
