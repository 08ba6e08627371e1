// Customer accounts: a class hierarchy with virtual fees and descriptions.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

class InsufficientFunds : public std::runtime_error {
public:
  explicit InsufficientFunds(const std::string &who) : std::runtime_error("insufficient funds for " + who) {}
};

class Account {
public:
  Account(std::string owner, long cents) : owner_(std::move(owner)), cents_(cents) {}
  virtual ~Account() = default;
  virtual long fee() const { return 100; }
  virtual std::string kind() const = 0;
  virtual long limit() const { return 0; }
  void deposit(long cents) { cents_ += cents; }
  void withdraw(long cents);
  long cents() const { return cents_; }
  const std::string &owner() const { return owner_; }

protected:
  std::string owner_;
  long cents_;
};

class Savings : public Account {
public:
  Savings(std::string owner, long cents, int rate) : Account(std::move(owner), cents), rate_(rate) {}
  long fee() const override;
  std::string kind() const override;
  int rate() const { return rate_; }

private:
  int rate_;
};

class Checking : public Account {
public:
  Checking(std::string owner, long cents, long overdraft)
      : Account(std::move(owner), cents), overdraft_(overdraft) {}
  std::string kind() const override;
  long limit() const override { return overdraft_; }

private:
  long overdraft_;
};

class Business : public Checking {
public:
  Business(std::string owner, long cents) : Checking(std::move(owner), cents, 50000) {}
  long fee() const override;
  std::string kind() const override;
};

std::vector<std::unique_ptr<Account>> &ledger();
