"""277CA Health Care Claim Acknowledgment, 005010X214.

Four HL levels, each with its name loop and its status loop; nothing else:

```
2000A information source    HL*20   2100A NM1*PR/AY   2200A TRN*1, DTP*050, DTP*009 (no STC)
  2000B information receiver HL*21  2100B NM1*41      2200B TRN*2, STC, QTY*90/AA, AMT*YU/YY
    2000C billing provider   HL*19  2100C NM1*85      2200C TRN*1, STC, REF, QTY*QA/QC, AMT*YU/YY
      2000D patient          HL*PT  2100D NM1*QC      2200D TRN*2, STC, REF*1K/D9/BLT, DTP*472
                                                        2220D SVC, STC, REF*FJ/XZ, DTP*472
```

The 277CA has no dependent level (no 2000E): the patient is the claim's patient
whether subscriber or dependent. A billing provider rejected as a whole ends its
hierarchy there (2000C HL04 0, no 2000D), as a rejected receiver does at 2000B; the HL
child-code rule still reports an HL04 1 with no patient level beneath it. STC appears only in 2200B-2200D and 2220D, so a
status anywhere else is reported as a misplaced segment.

The billing provider's status loop (2200C: TRN, then STC) is situational, as is its STC: it
reports provider-level errors that reject the provider's whole group of claims (X12 RFI 1211).
An accepted provider's 2200C carries its TRN alone, as payers' 277CAs do (eMedNY's among the
samples), or is left out: the guide's own business scenarios 1 and 3 go from the billing
provider's name (2100C) straight to its patients (2000D). The receiver (2200B) and claim (2200D,
2220D) statuses are required.
"""

from __future__ import annotations

from rcm.x12.schema import HIPAA_NOT_USED, Guide, parse_structure

# STC01-3 at the claim and line levels (2200D, 2220D): the entity the status is about, the
# payers in coordination of benefits (PRP, SEP, TTP), purchased service provider (QB),
# responsible party (QD) and repricer (TU) among them
_STATUS = "01.3=03,1P,1Z,40,41,71,72,73,77,82,85,87,DK,DN,DQ,FA,GB,HK,IL,LI,MSC,PR,PRP,QB,QC,QD,SEP,TL,TTP,TU"

STRUCTURE = f"""
ST R 1 *01=277 03=005010X214
BHT R 1 01=0085 02=08 03! 04! 05! 06! 06=TH
@2000A R >1
  HL R 1 *03=20 02- 04! 04=1
  @2100A R 1
    NM1 R 1 *01=AY,PR 02=2 03! 08! 08=46,FI,PI,XV 09! 04- 05- 06- 07-
  @2200A R 1
    TRN R 1 *01=1 03- 04-
    DTP R 1 *01=050 02=D8
    DTP R 1 *01=009 02=D8
  @2000B R >1
    HL R 1 *03=21 02! 04! 04=0,1
    @2100B R 1
      NM1 R 1 *01=41 02=1,2 03! 08! 08=46 09! 06- 07-
    @2200B R 1
      TRN R 1 *01=2 03- 04-
      STC R >1 02! 03! 03=U,WQ 04! 05- 06- 07- 08- 09- 12-
      QTY S 1 *01=90
      QTY S 1 *01=AA
      AMT S 1 *01=YU
      AMT S 1 *01=YY
    @2000C S >1
      HL R 1 *03=19 02! 04! 04=0,1
      @2100C R 1
        NM1 R 1 *01=85 02=1,2 03! 08! 08=FI,SV,XX 09!
      @2200C S 1
        TRN R 1 *01=1 03- 04-
        STC S >1 03! 03=U,WQ 04! 05- 06- 07- 08- 09- 12-
        REF S 3 *01=0B,1G,G2,LU,SY,TJ
        QTY S 1 *01=QA
        QTY S 1 *01=QC
        AMT S 1 *01=YU
        AMT S 1 *01=YY
      @2000D S >1
        HL R 1 *03=PT 02! 04-
        @2100D R 1
          NM1 R 1 *01=QC 02=1 03! 08! 08=II,MI 09!
        @2200D R >1
          TRN R 1 *01=2 03- 04-
          STC R >1 {_STATUS} 02! 03! 03=U,WQ 04! 05- 06- 07- 08- 09-
          REF S 1 *01=1K
          REF S 1 *01=D9
          REF S 1 *01=BLT
          DTP R 1 *01=472 02=D8,RD8
          @2220D S >1
            SVC R 1 03- 05-
            STC R >1 {_STATUS} 04- 05- 06- 07- 08- 09- 12-
            REF S 1 *01=FJ
            REF S 1 *01=XZ
            DTP S 1 *01=472 02=D8,RD8
"""

GUIDE = Guide(
    id="005010X214",
    transaction="277",
    name="Health Care Claim Acknowledgment",
    root=parse_structure(STRUCTURE, not_used=HIPAA_NOT_USED),
    business_units=(("2200D", "TRN02", "TRN", 2),),
    claim_loops=frozenset({"2200D"}),
)
