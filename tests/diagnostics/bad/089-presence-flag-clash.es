schema shop;

record Profile {
  nickname: string?;
  has_nickname: bool;
  // An optional record is a pointer: no flag, no clash.
  home: Profile?;
  has_home: bool;
}
