"""835 Health Care Claim Payment/Advice, 005010X221A1.

Header (BPR, TRN, CUR, REF, DTM); 1000A payer, 1000B payee; 2000 header number
(LX, TS3, TS2); 2100 claim payment (CLP, CAS, NM1s, MIA, MOA, REF, DTM, PER,
AMT, QTY); 2110 service payment (SVC, DTM, CAS, REF, AMT, QTY, LQ); PLB
provider adjustments at the end.
"""

from __future__ import annotations

from rcm.x12.schema import HIPAA_NOT_USED, Guide, parse_structure

STRUCTURE = """
ST R 1 *01=835 03=005010X221A1,005010X221
BPR R 1 01=C,D,H,I,P,U,X 03=C,D 04=ACH,BOP,CHK,FWT,NON 16!
TRN R 1 *01=1 03!
CUR S 1 *01=PR
REF S 1 *01=EV
REF S 1 *01=F2
DTM S 1 *01=405 02!
@1000A R 1
  N1 R 1 *01=PR 02! 05- 06-
  N3 R 1
  N4 R 1
  REF S 4 *01=2U,EO,HI,NF
  PER S 1 *01=CX
  PER R >1 *01=BL
  PER S 1 *01=IC 02- 05- 06- 07- 08-
@1000B R 1
  N1 R 1 *01=PE 02! 03=FI,XV,XX 04! 05- 06-
  N3 S 1
  N4 S 1
  REF S >1 *01=0B,D3,PQ,TJ
  RDM S 1
@2000 S >1
  LX R 1
  TS3 S 1 06- 07- 08- 09- 10- 11- 12- 14- 16- 19-
  TS2 S 1
  @2100 R >1
    CLP R 1 02=1,2,3,4,19,20,21,22,23,25 06! 06=12,13,14,15,16,17,AM,CH,DS,HM,LM,MA,MB,MC,OF,TV,VA,WC,ZZ 07! 10- 14-
    CAS S 99 01=CO,OA,PI,PR
    NM1 R 1 *01=QC 02=1 06-
    NM1 S 1 *01=IL 02=1,2 06-
    NM1 S 1 *01=74 02=1 06-
    NM1 S 1 *01=82 02=1,2 06-
    NM1 S 1 *01=TT 02=2 04- 05- 06- 07-
    NM1 S 1 *01=PR 02=2 04- 05- 06- 07-
    NM1 S 1 *01=GB 02=1 06-
    MIA S 1
    MOA S 1
    REF S 5 *01=1L,1W,28,6P,9A,9C,BB,CE,EA,F8,G1,G3,IG,SY
    REF S 10 *01=0B,1A,1B,1C,1D,1G,1H,1J,D3,G2,LU
    DTM S 2 *01=232,233 02!
    DTM S 1 *01=036 02!
    DTM S 1 *01=050 02!
    PER S 2 *01=CX
    AMT S 13 01=AU,D8,DY,F5,I,NL,T,T2,ZK,ZL,ZM,ZN,ZO
    QTY S 14 01=CA,CD,LA,LE,NE,NR,OU,PS,VS,ZK,ZL,ZM,ZN,ZO
    @2110 S 999
      SVC R 1 01.1=AD,ER,HC,HP,IV,N4,N6,NU,UI,WK
      DTM S 2 *01=150,151,472 02!
      CAS S 99 01=CO,OA,PI,PR
      REF S 8 *01=1S,APC,BB,E9,G1,G3,LU,RB
      REF S 1 *01=6R
      REF S 10 *01=0B,1A,1B,1C,1D,1G,1H,1J,D3,G2,HPI,SY,TJ
      REF S 5 *01=0K
      AMT S 9 01=B6,KH,T,T2,ZK,ZL,ZM,ZN,ZO
      QTY S 6 01=ZK,ZL,ZM,ZN,ZO
      LQ S 99 01=HE,RX
PLB S >1
"""

GUIDE = Guide(
    id="005010X221A1",
    transaction="835",
    name="Health Care Claim Payment/Advice",
    root=parse_structure(STRUCTURE, not_used=(*HIPAA_NOT_USED, "DTM-03", "DTM-04", "DTM-05", "DTM-06")),
    claim_loops=frozenset({"2100"}),
)
