"""271 Eligibility, Coverage or Benefit Information, 005010X279A1.

2000A information source (AAA, 2100A); 2000B information receiver (2100B);
2000C subscriber (TRN, 2100C, 2110C benefits with 2115C and 2120C between
LS/LE); 2000D dependent, the same below 2100D.
"""

from __future__ import annotations

from rcm.x12.schema import Guide, parse_structure

_MEMBER = """
  REF S 9 01=18,1L,1W,3H,6P,CE,CT,EA,EJ,F6,GH,HJ,IF,IG,MRC,N6,NQ,Q4,SY,Y4
  N3 S 1
  N4 S 1
  AAA S 9
  PRV S 1
  DMG S 1 01=D8
  INS S 1
  HI S 1
  DTP S 9 02=D8,RD8
  MPI S 1
"""

_BENEFIT = """
  EB R 1 01=1,2,3,4,5,6,7,8,A,B,C,CB,D,E,F,G,H,I,J,K,L,M,MC,N,O,P,Q,R,S,T,U,V,W,X,Y
  HSD S 9
  REF S 9
  DTP S 20 02=D8,RD8
  AAA S 9
  MSG S 10
  @2115{L} S 10
    III R 1
  LS S 1
  @2120{L} S 23
    NM1 R 1 *01=13,1I,1P,2B,36,71,72,73,FA,GP,GW,I3,IL,LR,OC,P3,P4,P5,PR,PRP,SEP,TTP,VER,VN,VY,X3,Y2 02=1,2
    N3 S 1
    N4 S 1
    PER S 3
    PRV S 1
  LE S 1
"""


def _block(text: str, indent: int, level: str = "") -> str:
    text = text.replace("{L}", level)
    return "\n".join(" " * (indent - 2) + line for line in text.strip("\n").splitlines())


STRUCTURE = f"""
ST R 1 *01=271 03=005010X279A1,005010X279
BHT R 1 01=0022 02=06,11
@2000A R >1
  HL R 1 *03=20
  AAA S 9
  @2100A R 1
    NM1 R 1 *01=2B,36,GP,P5,PR 02=1,2
    PER S 3
    AAA S 9
  @2000B S >1
    HL R 1 *03=21
    @2100B R 1
      NM1 R 1 *01=1P,2B,36,80,FA,GP,P5,PR 02=1,2
      REF S 9
      AAA S 9
      PRV S 1
    @2000C S >1
      HL R 1 *03=22
      TRN S 3 *01=1,2
      @2100C R 1
        NM1 R 1 *01=IL 02=1
{_block(_MEMBER, 8)}
        @2110C S >1
{_block(_BENEFIT, 10, "C")}
      @2000D S >1
        HL R 1 *03=23
        TRN S 3 *01=1,2
        @2100D R 1
          NM1 R 1 *01=03 02=1
{_block(_MEMBER, 10)}
          @2110D S >1
{_block(_BENEFIT, 12, "D")}
"""

GUIDE = Guide(
    id="005010X279A1",
    transaction="271",
    name="Eligibility, Coverage or Benefit Information",
    root=parse_structure(STRUCTURE),
    claim_loops=frozenset({"2000C"}),
)
