"""999 Implementation Acknowledgment, 005010X231A1 (X231 is read with this structure).

AK1 group response; 2000 set response (AK2, 2100 segment errors: IK3, CTX,
2110 element errors: IK4, CTX; IK5); AK9 group trailer.
"""

from __future__ import annotations

from rcm.x12.schema import Guide, parse_structure

STRUCTURE = """
ST R 1 *01=999 03=005010X231A1,005010X231
AK1 R 1 01=BE,FA,HB,HC,HI,HN,HP,HR,HS,RA
@2000 S >1
  AK2 R 1 01=270,271,276,277,278,820,834,835,837,999
  @2100 S >1
    IK3 R 1 04=1,2,3,4,5,6,7,8,I4,I6,I7,I8,I9
    CTX S 11
    @2110 S 99
      IK4 R 1 03=1,2,3,4,5,6,7,8,9,10,12,13,I10,I11,I12,I13,I6,I9
      CTX S 10
  IK5 R 1 01=A,E,M,R,W,X 02=1,2,3,4,5,6,7,8,9,10,11,12,13,15,16,17,18,19,23,24,25,26,27,I5,I6
AK9 R 1 01=A,E,M,P,R,W,X 05=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,23,24,25,26
"""

GUIDE = Guide(
    id="005010X231A1",
    transaction="999",
    name="Implementation Acknowledgment",
    root=parse_structure(STRUCTURE),
)
