// Items in the depot's bins. An item's weight is kept either in kilograms or
// as a fixed-point count of grams, in an anonymous union.
#pragma once
#include <string>
#include <vector>

enum class Unit { Kilograms, Grams };

struct Item {
  int sku;
  int qty;
  Unit unit;
  union {
    double kilograms;
    long grams;
  };
  struct {
    short aisle;
    short shelf;
  } place;
  const char *label;
};

struct Bin {
  std::vector<Item> items;
  int capacity;
  int restocks;
};

Bin &main_bin();
double item_weight(const Item &item);
std::string item_place(const Item &item);
