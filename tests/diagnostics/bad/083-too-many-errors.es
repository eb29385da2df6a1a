schema shop;

// 25 unknown types: only the first 20 errors are shown
record Big {
  f1: Missing1;
  f2: Missing2;
  f3: Missing3;
  f4: Missing4;
  f5: Missing5;
  f6: Missing6;
  f7: Missing7;
  f8: Missing8;
  f9: Missing9;
  f10: Missing10;
  f11: Missing11;
  f12: Missing12;
  f13: Missing13;
  f14: Missing14;
  f15: Missing15;
  f16: Missing16;
  f17: Missing17;
  f18: Missing18;
  f19: Missing19;
  f20: Missing20;
  f21: Missing21;
  f22: Missing22;
  f23: Missing23;
  f24: Missing24;
  f25: Missing25;
}
