// A small RAII layer over SQLite's C API: connection, prepared statement, transaction.
// Every failure becomes an absl::Status carrying SQLite's own message.
#ifndef CSCORE_SRC_STORE_SQLITE_H_
#define CSCORE_SRC_STORE_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cscore::sqlite {

class Db {
 public:
  static absl::StatusOr<Db> Open(const std::string& path);
  Db(Db&&) noexcept;
  Db& operator=(Db&&) noexcept;
  ~Db();

  sqlite3* get() const { return db_; }
  // Runs one or more statements that return no rows.
  absl::Status Exec(std::string_view sql);
  // Status for an SQLite result code, with the connection's message and `what` as context.
  absl::Status Error(int rc, std::string_view what) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  static absl::StatusOr<Stmt> Prepare(const Db& db, std::string_view sql);
  Stmt(Stmt&&) noexcept;
  Stmt& operator=(Stmt&&) noexcept;
  ~Stmt();

  // Binds are 1-based, as in SQLite. Blobs and text are bound without copy: keep the data
  // alive until the next Step/Reset.
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void Bind(int i, std::string_view text);
  void BindBlob(int i, std::span<const std::byte> blob);
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }

  // true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Step() for statements that return no rows, then Reset().
  absl::Status Run();
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const;
  std::span<const std::byte> Blob(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  Stmt(const Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  const Db* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction; rolls back on destruction unless Commit() succeeded.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(Db& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  absl::Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_ = nullptr;
};

}  // namespace cscore::sqlite

#endif  // CSCORE_SRC_STORE_SQLITE_H_
