// Accounts made once at the first step and credited at every step; a
// withdrawal beyond the limit throws.
#include "accounts.h"

#include "depot.h"
#include "text.h"

void Account::withdraw(long cents) {
  if (cents > cents_ + limit())
    throw InsufficientFunds(owner_);
  cents_ -= cents;
}

long Savings::fee() const { return 25 + rate_; }
std::string Savings::kind() const { return "savings"; }

std::string Checking::kind() const { return "checking"; }

long Business::fee() const { return 500; }
std::string Business::kind() const { return "business"; }

std::vector<std::unique_ptr<Account>> &ledger() {
  static std::vector<std::unique_ptr<Account>> accounts;
  if (accounts.empty()) {
    accounts.push_back(std::make_unique<Savings>("ada", 10000, 3));
    accounts.push_back(std::make_unique<Checking>("bob", 2500, 1000));
    accounts.push_back(std::make_unique<Business>("cyd", 90000));
  }
  return accounts;
}

static std::string try_withdraw(Account &a, long cents) {
  try {
    a.withdraw(cents);
    a.deposit(cents);
    return "ok";
  } catch (const InsufficientFunds &e) {
    return std::string("refused: ") + e.what();
  }
}

static long total_fees(const std::vector<std::unique_ptr<Account>> &accounts) {
  long total = 0;
  for (const auto &a : accounts)
    total += a->fee();
  return total;
}

static std::string statement(const Account &a) {
  return pad(a.owner()) + a.kind() + fmt(" %ld.%02ld", a.cents() / 100, a.cents() % 100);
}

void report_accounts() {
  auto &accounts = ledger();
  for (auto &a : accounts)
    a->deposit(100);
  long expected = 10000 + 2500 + 90000 + 3 * 100 * g_steps;
  long held = 0;
  for (auto &a : accounts)
    held += a->cents();
  probe("accounts.balance", held == expected ? "in-sync" : fmt("out of sync (%ld)", held));
  probe("accounts.kinds", accounts[0]->kind() + "," + accounts[1]->kind() + "," + accounts[2]->kind());
  probe("accounts.fees", std::to_string(total_fees(accounts)));
  probe("accounts.limit", std::to_string(accounts[1]->limit()));
  probe("accounts.overdraft", try_withdraw(*accounts[1], 1000000));
  probe("accounts.small", try_withdraw(*accounts[0], 50));
  Savings temp("tmp", 0, 7);
  probe("accounts.statement", statement(temp));
}
