// Small container templates used by the inventory.
#pragma once
#include <cstddef>

template <typename T, std::size_t N> class RingBuffer {
public:
  void push(const T &v) {
    data_[head_] = v;
    head_ = (head_ + 1) % N;
    if (count_ < N)
      ++count_;
  }
  std::size_t size() const { return count_; }
  const T &at(std::size_t i) const { return data_[(head_ + N - count_ + i) % N]; }
  T newest() const { return data_[(head_ + N - 1) % N]; }

private:
  T data_[N] = {};
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

template <typename Container> auto sum_of(const Container &c) {
  typename Container::value_type total{};
  for (const auto &v : c)
    total += v;
  return total;
}

template <typename T> T largest(const T *first, const T *last) {
  T best = *first;
  for (const T *p = first; p != last; ++p)
    if (best < *p)
      best = *p;
  return best;
}

template <typename T, typename F> int count_if_all(const T *first, const T *last, F pred) {
  int n = 0;
  for (const T *p = first; p != last; ++p)
    if (pred(*p))
      ++n;
  return n;
}
